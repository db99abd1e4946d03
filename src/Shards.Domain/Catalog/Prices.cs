namespace Shards.Domain.Catalog;

/// <summary>Rules for a price: 0 to 1,000,000 with at most 2 decimal places.</summary>
public static class Prices
{
    public const decimal MaxPrice = 1_000_000m;
    public const int MaxDecimalPlaces = 2;

    /// <summary>Returns <paramref name="price"/> when it is a valid price; throws a Validation error otherwise.</summary>
    public static decimal Validate(decimal price)
    {
        if (price < 0m)
        {
            throw DomainRuleException.Validation($"Invalid price {Text.Money(price)}: a price cannot be negative.");
        }

        if (price > MaxPrice)
        {
            throw DomainRuleException.Validation($"Invalid price {Text.Money(price)}: a price is at most {Text.Money(MaxPrice)}.");
        }

        if (decimal.Round(price, MaxDecimalPlaces) != price)
        {
            throw DomainRuleException.Validation(
                $"Invalid price {Text.Money(price)}: a price has at most {MaxDecimalPlaces} decimal places (e.g. 19.99).");
        }

        return price;
    }
}
