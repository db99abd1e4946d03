using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace Shards.Postgres;

/// <summary>Registers a host's PostgreSQL data sources (<see cref="PostgresDataSources"/>).</summary>
public static class PostgresDataSourcesServiceCollectionExtensions
{
    /// <summary>
    /// The host's <see cref="PostgresDataSources"/>, unless one is registered already: a singleton the container disposes,
    /// or <paramref name="shared"/>, a registry its owner disposes. For code that picks its database by connection string
    /// (the client's death watch): the unkeyed <see cref="NpgsqlDataSource"/> stays the application's.
    /// </summary>
    public static IServiceCollection AddPostgresDataSources(this IServiceCollection services, PostgresDataSources? shared = null)
    {
        if (shared is not null)
        {
            services.TryAddSingleton(shared);
        }
        else
        {
            services.TryAddSingleton(_ => new PostgresDataSources());
        }

        return services;
    }

    /// <summary>
    /// The host's <see cref="PostgresDataSources"/> (<see cref="AddPostgresDataSources"/>), the main
    /// database's <see cref="NpgsqlDataSource"/> as the unkeyed singleton (membership, reminders, the shard map, the
    /// payment ledger, HTTP idempotency records) and each of <paramref name="shards"/> (name, connection string) as a
    /// keyed singleton whose key is the shard's name. Shards on the main database, or on one database, resolve the same
    /// instance. The registry and its data sources are disposed with the container; with <paramref name="shared"/> (a
    /// registry its owner disposes, e.g. the CLI's, shared with the cluster client it starts) nothing is.
    /// </summary>
    public static IServiceCollection AddShardsDataSources(
        this IServiceCollection services,
        string mainConnectionString,
        IEnumerable<KeyValuePair<string, string>>? shards = null,
        PostgresDataSources? shared = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(mainConnectionString);
        services.AddPostgresDataSources(shared);
        if (shared is not null)
        {
            // Instances: the container never disposes what it did not create.
            services.AddSingleton(shared.For(mainConnectionString));
            foreach (var (name, connectionString) in shards ?? [])
            {
                services.TryAddKeyedSingleton(name, shared.For(connectionString));
            }

            return services;
        }

        // Added, not tried: it replaces a fallback registered before (the HTTP API's, which refuses to start without one).
        services.AddSingleton(provider => provider.GetRequiredService<PostgresDataSources>().For(mainConnectionString));
        foreach (var (name, connectionString) in shards ?? [])
        {
            services.TryAddKeyedSingleton(name, (provider, _) => provider.GetRequiredService<PostgresDataSources>().For(connectionString));
        }

        return services;
    }
}
