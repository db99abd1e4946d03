using Npgsql;
using Orleans.Runtime;
using Orleans.Storage;
using Shards.Storage;

namespace Shards.Storage.Postgres;

/// <summary>
/// One shard's Orleans ADO.NET storage with group commit off: every write is its own transaction, as with Orleans'
/// storage alone. Shards sends reads and writes itself (<see cref="ShardWriteStatements"/>): a write routed by the
/// shard map is one batch of the shard's write-fence check and the logged write (one round trip, one transaction), so
/// the shard database refuses it when a resharding closed the shard to its map version, and logs the request it
/// applies; a read also loads the grain's request log. Clears, and grains with keys Shards does not send itself, go to
/// Orleans' storage unchanged.
/// </summary>
public sealed class FencedAdoNetGrainStorage : IFencedGrainStorage, IRequestLogStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private readonly AdoNetGrainStorage _inner;
    private readonly ShardWriteStatements _statements;

    /// <param name="dataSource">The shard database's data source (<see cref="Shards.Postgres.PostgresDataSources"/>).</param>
    /// <param name="commandTimeout">The longest wait for each read and write statement; null: the data source's default.</param>
    public FencedAdoNetGrainStorage(string name, AdoNetGrainStorage inner, NpgsqlDataSource dataSource, TimeSpan? commandTimeout, string serviceId)
    {
        _inner = inner;
        _statements = new ShardWriteStatements(name, inner, serviceId, dataSource, commandTimeout);
    }

    /// <summary>The ADO.NET storage that clears, and reads and writes what Shards does not send itself.</summary>
    public AdoNetGrainStorage Inner => _inner;

    /// <summary>The shard database's data source its reads and writes use.</summary>
    internal NpgsqlDataSource DataSource => _statements.DataSource;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _statements.ReadStateAsync(stateName, grainId, grainState, mapVersion: null);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, int mapVersion) =>
        _statements.ReadStateAsync(stateName, grainId, grainState, mapVersion);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteAsync(stateName, grainId, grainState, mapVersion: null);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, int mapVersion) =>
        WriteAsync(stateName, grainId, grainState, mapVersion);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _inner.ClearStateAsync(stateName, grainId, grainState);

    public Task<LoggedRequest?> FindAsync(string stateName, GrainId grainId, Guid requestId) =>
        _statements.FindAsync(stateName, grainId, requestId);

    /// <summary>The ADO.NET storage loads its queries at start-up (the connections are the data source's, closed with its owner).</summary>
    public void Participate(ISiloLifecycle lifecycle) => _inner.Participate(lifecycle);

    private async Task WriteAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, int? mapVersion)
    {
        if (!ShardWriteStatements.CanSend(stateName, grainId))
        {
            await _inner.WriteStateAsync(stateName, grainId, grainState);
            return;
        }

        var write = _statements.Prepare(stateName, grainId, grainState, mapVersion);
        _statements.Complete(write, await _statements.WriteOneAsync(write), grainState);
    }
}
