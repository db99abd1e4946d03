using Shards.Storage.Postgres;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Sharding;

/// <summary>
/// A main database and two shard databases on two separate PostgreSQL servers: <c>s0</c> on the tests' server,
/// <c>s1</c> on a second private server that this fixture starts and destroys. Tests tell their data apart by ServiceId.
/// </summary>
public sealed class TwoServerShardsFixture : IAsyncLifetime
{
    private ExtraPostgresServer? _secondServer;

    public string Main { get; private set; } = string.Empty;

    public string S0 { get; private set; } = string.Empty;

    public string S1 { get; private set; } = string.Empty;

    public ExtraPostgresServer SecondServer => _secondServer!;

    public async Task InitializeAsync()
    {
        _secondServer = await ExtraPostgresServer.StartAsync();
        Main = await TestPostgres.CreateDatabaseAsync("shard_main");
        S0 = await TestPostgres.CreateDatabaseAsync("shard_s0");
        S1 = await _secondServer.CreateDatabaseAsync("shard_s1");
    }

    /// <summary>Shards s0 and s1; a refresh period and lease long enough that tests decide when the map is re-read.</summary>
    public ShardsStorageOptions Storage(TimeSpan? refreshPeriod = null, TimeSpan? lease = null) => new()
    {
        Shards =
        [
            new ShardOptions { Name = "s0", ConnectionString = S0 },
            new ShardOptions { Name = "s1", ConnectionString = S1 },
        ],
        MapRefreshPeriod = refreshPeriod ?? TimeSpan.FromHours(1),
        MapLease = lease ?? TimeSpan.FromHours(2),
    };

    public string ConnectionStringOf(string shard) => shard switch
    {
        "s0" => S0,
        "s1" => S1,
        _ => throw new ArgumentOutOfRangeException(nameof(shard), shard, "no such shard"),
    };

    public async Task DisposeAsync()
    {
        if (_secondServer is not null)
        {
            await _secondServer.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class TwoServerShardsCollection : ICollectionFixture<TwoServerShardsFixture>
{
    public const string Name = "Shard databases on two PostgreSQL servers";
}
