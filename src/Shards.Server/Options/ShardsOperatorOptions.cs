using Microsoft.Extensions.Options;

namespace Shards.Server.Options;

/// <summary>
/// The operator token (section <c>Shards:Operator</c>): a secret a caller must send to run a grain method marked
/// <see cref="Contracts.Operations.OperatorOnlyAttribute"/> (e.g. declaring a silo dead). None by default: then no caller
/// may. <c>shards cluster up</c> makes one per run and gives it to its silos through their environment.
/// </summary>
public sealed class ShardsOperatorOptions
{
    public const string Section = "Shards:Operator";

    /// <summary>The token (at least 32 characters); a secret: environment or user secrets only.</summary>
    public string? Token { get; set; }
}

/// <summary>Checks <see cref="ShardsOperatorOptions"/> at start.</summary>
public sealed class ShardsOperatorOptionsValidator : IValidateOptions<ShardsOperatorOptions>
{
    public ValidateOptionsResult Validate(string? name, ShardsOperatorOptions options) =>
        options.Token is { } token && token.Trim().Length < 32
            ? ValidateOptionsResult.Fail("Shards:Operator:Token must be at least 32 characters (a random secret), or unset.")
            : ValidateOptionsResult.Success;
}
