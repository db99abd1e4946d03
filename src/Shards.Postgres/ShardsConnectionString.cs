using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Shards.Postgres;

/// <summary>The PostgreSQL connection string a host uses, resolved once from configuration.</summary>
public sealed record ShardsConnectionString(string Value)
{
    /// <summary>Reads <c>ConnectionStrings:Shards</c> (environment <c>ConnectionStrings__Shards</c>); fails clearly when absent.</summary>
    public static ShardsConnectionString FromConfiguration(IConfiguration configuration)
    {
        var value = configuration.GetConnectionString(ConnectionStringNames.Shards);
        return string.IsNullOrWhiteSpace(value)
            ? throw Invalid(
                $"No PostgreSQL connection string: set ConnectionStrings__{ConnectionStringNames.Shards} " +
                "(e.g. Host=127.0.0.1;Port=5432;Database=shards;Username=postgres) or use 'shards db start'.")
            : new ShardsConnectionString(value);
    }

    public override string ToString() => PostgresAvailability.Describe(Value);

    /// <summary>A setting that cannot work: the same exception as an options validator's, so hosts report it alike.</summary>
    private static OptionsValidationException Invalid(string message) => new(Microsoft.Extensions.Options.Options.DefaultName, typeof(ShardsConnectionString), [message]);
}
