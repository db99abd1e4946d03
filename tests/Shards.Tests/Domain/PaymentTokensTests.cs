using Shards.Domain;

namespace Shards.Tests.Domain;

/// <summary>What people are shown of a payment token: its last characters, never enough to be the token.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class PaymentTokensTests
{
    [Theory]
    [InlineData("tok-card-secret-4242", "****4242")]
    [InlineData("tok-decline-secret-9876", "****9876")]
    [InlineData("tok-visa", "****sa")]
    [InlineData("tok-decline", "****ine")]
    [InlineData("ab", "****")]
    [InlineData("x", "****")]
    public void A_hint_shows_at_most_the_last_four_characters_and_at_most_a_third_of_the_token(string token, string hint)
    {
        Assert.Equal(hint, PaymentTokens.Hint(token));
        Assert.True(hint.Length - PaymentTokens.Mask.Length <= token.Length / 3);
    }

    [Fact]
    public void Redacting_a_text_replaces_every_occurrence_of_the_token_with_its_hint()
    {
        var redacted = PaymentTokens.Redact("card declined (token tok-decline-secret-9876); tok-decline-secret-9876 again", "tok-decline-secret-9876");

        Assert.Equal("card declined (token ****9876); ****9876 again", redacted);
    }
}
