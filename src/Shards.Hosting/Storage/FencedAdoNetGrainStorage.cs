using Npgsql;
using Orleans.Runtime;
using Orleans.Storage;
using Shards.Hosting.Sharding;

namespace Shards.Hosting.Storage;

/// <summary>
/// One shard's Orleans ADO.NET storage with group commit off: every write is its own transaction, as with Orleans'
/// storage alone. A write routed by the shard map is sent by Shards as one batch of two statements, the shard's
/// write-fence check and Orleans' own write statement (one round trip, one transaction), so the shard database refuses
/// it when a resharding closed the shard to its map version. Reads, clears and writes that no map routed go to
/// Orleans' storage unchanged.
/// </summary>
public sealed class FencedAdoNetGrainStorage : IFencedGrainStorage, ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    private readonly AdoNetGrainStorage _inner;
    private readonly ShardWriteStatements _statements;
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _serviceId;

    public FencedAdoNetGrainStorage(string name, AdoNetGrainStorage inner, string connectionString, string serviceId)
    {
        _inner = inner;
        _statements = new ShardWriteStatements(name, inner, serviceId);
        _serviceId = serviceId;
        // Two statements of the same text every time: prepared once per connection, as group commit does.
        _dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
        {
            MaxAutoPrepare = Math.Max(new NpgsqlConnectionStringBuilder(connectionString).MaxAutoPrepare, 4),
            AutoPrepareMinUsages = 2,
        });
    }

    /// <summary>The ADO.NET storage that reads, clears, and writes what no map routed.</summary>
    public AdoNetGrainStorage Inner => _inner;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _inner.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _inner.WriteStateAsync(stateName, grainId, grainState);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _inner.ClearStateAsync(stateName, grainId, grainState);

    /// <summary>Orleans' read, while a transaction holds the shard's fence check (a placeholder for one round trip).</summary>
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, int mapVersion) =>
        ShardWriteFence.ReadAsync(_dataSource, _serviceId, _statements.StorageName, stateName, grainId, mapVersion, () => _inner.ReadStateAsync(stateName, grainId, grainState));

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, int mapVersion)
    {
        if (!ShardWriteStatements.CanSend(stateName, grainId))
        {
            await _inner.WriteStateAsync(stateName, grainId, grainState);
            return;
        }

        var write = _statements.Prepare(stateName, grainId, grainState, mapVersion);
        await using var connection = await _dataSource.OpenConnectionAsync();
        _statements.Complete(write, await _statements.ExecuteOneAsync(connection, write), grainState);
    }

    /// <summary>The ADO.NET storage loads its queries at start-up; the connections close when the silo stops.</summary>
    public void Participate(ISiloLifecycle lifecycle)
    {
        _inner.Participate(lifecycle);
        lifecycle.Subscribe($"FencedWrites-{_statements.StorageName}", ServiceLifecycleStage.RuntimeStorageServices + 1, _ => Task.CompletedTask, async _ => await DisposeAsync());
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
