using Microsoft.Extensions.Options;

namespace Shards.Client;

/// <summary>Checks <c>Shards:Cluster</c>: silos and clients of one cluster must name it.</summary>
public sealed class ShardsClusterOptionsValidator : IValidateOptions<ShardsClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, ShardsClusterOptions options) =>
        !string.IsNullOrWhiteSpace(options.ClusterId) && !string.IsNullOrWhiteSpace(options.ServiceId)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Shards:Cluster:ClusterId and ServiceId are required");
}
