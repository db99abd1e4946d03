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

    [Fact]
    public void Each_kind_of_id_is_explained_with_its_own_article_and_an_example_of_its_own_kind()
    {
        var order = Assert.Throws<DomainRuleException>(() => Identifiers.ValidateOrderId("12"));
        var cart = Assert.Throws<DomainRuleException>(() => Identifiers.ValidateCartId("cart 1"));
        var sku = Assert.Throws<DomainRuleException>(() => Identifiers.ValidateSku(""));
        var token = Assert.Throws<DomainRuleException>(() => Identifiers.ValidatePaymentToken("4111 1111"));

        Assert.Contains("Invalid order ID '12'", order.Message, StringComparison.Ordinal);
        Assert.Contains("An order ID is 1 to 64 characters", order.Message, StringComparison.Ordinal);
        Assert.Contains("(e.g. order-1001)", order.Message, StringComparison.Ordinal);
        Assert.Contains("A cart ID is 1 to 64 characters", cart.Message, StringComparison.Ordinal);
        Assert.Contains("(e.g. cart-1001)", cart.Message, StringComparison.Ordinal);
        Assert.Contains("A SKU is 1 to 64 characters", sku.Message, StringComparison.Ordinal);
        Assert.Contains("(e.g. sku-1001)", sku.Message, StringComparison.Ordinal);
        Assert.Contains("(e.g. tok-visa)", token.Message, StringComparison.Ordinal);
        Assert.All([order, cart, token], e => Assert.DoesNotContain("sku-1001", e.Message, StringComparison.Ordinal));
        Assert.All([order, cart, sku, token], e => Assert.DoesNotContain("A order", e.Message, StringComparison.Ordinal));
    }
}
