using Shards.Storage.Postgres.Resharding;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Tests.Infrastructure;

/// <summary>Shards' stores as the tests use them from outside a silo: on the tests' data sources (<see cref="TestPostgres.DataSources"/>).</summary>
public static class TestStores
{
    /// <summary>The shard map of the main database at <paramref name="main"/> (and the shard identities, wherever asked).</summary>
    public static ShardMapStore Maps(string main) => new(TestPostgres.DataSources, main);

    /// <summary>The resharding progress in the main database at <paramref name="main"/>.</summary>
    public static ReshardingStore Resharding(string main) => new(TestPostgres.DataSources.For(main));

    /// <summary>Rows of shard databases, as a resharding scans and moves them.</summary>
    public static ShardRows Rows { get; } = new(TestPostgres.DataSources);

    /// <summary>The write fences of shard databases.</summary>
    public static ShardWriteFence Fences { get; } = new(TestPostgres.DataSources);
}
