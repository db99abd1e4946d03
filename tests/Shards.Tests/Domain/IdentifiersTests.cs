using Shards.Domain;

namespace Shards.Tests.Domain;

[Trait(TestCategories.Name, TestCategories.Unit)]
public class IdentifiersTests
{
    [Theory]
    [InlineData("x")]
    [InlineData("sku-42")]
    [InlineData("SKU_1.v2")]
    [InlineData("0abz")]
    public void Valid_ids_are_returned_unchanged(string id)
    {
        Assert.Equal(id, Identifiers.ValidateSku(id));
        Assert.Equal(id, Identifiers.ValidateCartId(id));
        Assert.True(Identifiers.IsValid(id));
    }

    [Fact]
    public void An_id_of_64_characters_is_valid_and_65_is_not()
    {
        Assert.Equal(new string('z', 64), Identifiers.ValidateSku(new string('z', 64)));
        var error = Assert.Throws<DomainRuleException>(() => Identifiers.ValidateSku(new string('z', 65)));
        Assert.Equal(DomainRuleKind.Validation, error.Kind);
        Assert.Contains("65 characters", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "empty")]
    [InlineData("", "empty")]
    [InlineData("-abc", "start with a letter or digit")]
    [InlineData(".abc", "start with a letter or digit")]
    [InlineData("_abc", "start with a letter or digit")]
    [InlineData("a b", "position 2")]
    [InlineData("a/b", "'/'")]
    [InlineData("caf\u00e9", "position 4")]
    [InlineData("a\nb", "U+000A")]
    [InlineData("1001", "hexadecimal")]
    [InlineData("0ABC", "hexadecimal")]
    [InlineData("cafe", "hexadecimal")]
    public void Malformed_ids_are_validation_errors_that_say_what_is_wrong(string? id, string expected)
    {
        var error = Assert.Throws<DomainRuleException>(() => Identifiers.ValidateCartId(id));

        Assert.Equal(DomainRuleKind.Validation, error.Kind);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("cart ID", error.Message, StringComparison.Ordinal);
        Assert.False(Identifiers.IsValid(id));
    }

    [Fact]
    public void A_rejected_id_is_quoted_shortened_and_without_raw_control_characters()
    {
        var id = "a\u0007" + new string('x', 100);

        var error = Assert.Throws<DomainRuleException>(() => Identifiers.ValidateSku(id));

        Assert.DoesNotContain('\u0007', error.Message);
        Assert.Contains("\\u0007", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('x', 50), error.Message, StringComparison.Ordinal);
    }
}
