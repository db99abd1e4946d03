using System.CommandLine;
using System.CommandLine.Parsing;
using Shards.Domain;

namespace Shards.Cli;

/// <summary>
/// The domain's rules applied to command-line values while parsing, so that a bad SKU, cart ID or quantity is
/// refused in one line before anything connects (and whether or not a cluster runs).
/// </summary>
internal static class CliValidation
{
    /// <summary>Refuses a value of <paramref name="argument"/> that <paramref name="validate"/> rejects.</summary>
    public static Argument<T> Checked<T>(this Argument<T> argument, Action<T> validate)
    {
        argument.Validators.Add(result => Check(result, () => validate(result.GetValueOrDefault<T>())));
        return argument;
    }

    /// <summary>Refuses a value of <paramref name="option"/> that <paramref name="validate"/> rejects.</summary>
    public static Option<T> Checked<T>(this Option<T> option, Action<T> validate)
    {
        option.Validators.Add(result => Check(result, () => validate(result.GetValueOrDefault<T>())));
        return option;
    }

    /// <summary>A quantity of units to take or put back: at least 1.</summary>
    public static void PositiveQuantity(int quantity)
    {
        if (quantity < 1)
        {
            throw new DomainRuleException($"Invalid quantity {quantity}: a quantity must be at least 1.");
        }
    }

    /// <summary>A whole number option from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static void InRange(int value, int min, int max, string option)
    {
        if (value < min || value > max)
        {
            throw new DomainRuleException($"{option} must be from {min} to {max}; it was {value}.");
        }
    }

    private static void Check(SymbolResult result, Action validate)
    {
        try
        {
            validate();
        }
        catch (DomainRuleException ex)
        {
            result.AddError(ex.Message);
        }
        catch (InvalidOperationException)
        {
            // The value did not convert (e.g. "abc" for a number): the parser reports that error itself.
        }
    }
}
