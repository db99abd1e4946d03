using Microsoft.Extensions.Options;

namespace Shards.Grains.Catalog;

/// <summary>
/// <c>Shards:ReadLeases</c>: product reads served from a silo's own copy, under a lease the product grants and revokes
/// before it changes (docs/read-leases.md).
/// </summary>
public sealed class ProductReadLeaseOptions
{
    public const string Section = "Shards:ReadLeases";

    /// <summary>Whether the HTTP API's product reads use leased copies. Off: every read calls the product's grain.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// How long a copy may be read. Longer: fewer grain calls per product and silo; but a change waits up to this long
    /// for a silo that holds a copy and does not answer (killed, frozen, cut off), and so does the first change after a
    /// product's grain moved (it cannot know the copies its previous activation leased out).
    /// </summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The most products one silo keeps copies of; past it, reads of other products call their grain.</summary>
    public int MaxCopiesPerSilo { get; set; } = 100_000;
}

/// <summary>Checks <see cref="ProductReadLeaseOptions"/>.</summary>
public sealed class ProductReadLeaseOptionsValidator : IValidateOptions<ProductReadLeaseOptions>
{
    public static readonly TimeSpan MinDuration = TimeSpan.FromMilliseconds(50);
    public static readonly TimeSpan MaxDuration = TimeSpan.FromSeconds(10);

    public ValidateOptionsResult Validate(string? name, ProductReadLeaseOptions options)
    {
        var failures = new List<string>();
        if (options.Duration < MinDuration || options.Duration > MaxDuration)
        {
            failures.Add($"{ProductReadLeaseOptions.Section}:{nameof(options.Duration)} is {options.Duration}; it must be between " +
                $"{MinDuration.TotalMilliseconds:0} ms (shorter, a copy is rarely read before it runs out) and {MaxDuration.TotalSeconds:0} s " +
                "(longer, a change can wait that long for a silo that does not answer).");
        }

        if (options.MaxCopiesPerSilo < 1)
        {
            failures.Add($"{ProductReadLeaseOptions.Section}:{nameof(options.MaxCopiesPerSilo)} is {options.MaxCopiesPerSilo}; it must be at least 1 (turn the copies off with {ProductReadLeaseOptions.Section}:{nameof(options.Enabled)}=false).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
