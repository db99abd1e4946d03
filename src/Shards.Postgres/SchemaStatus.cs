using Npgsql;

namespace Shards.Postgres;

/// <summary>Which schema migrations a database has.</summary>
/// <param name="database">The database (its data source: <see cref="PostgresDataSources"/>).</param>
public sealed class SchemaStatus(NpgsqlDataSource database)
{
    /// <summary>The applied migration versions, oldest first; empty when the schema was never applied.</summary>
    public async Task<IReadOnlyList<string>> ReadAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT version FROM shards_schema_migrations WHERE to_regclass('shards_schema_migrations') IS NOT NULL ORDER BY version", connection);
        try
        {
            var versions = new List<string>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                versions.Add(reader.GetString(0));
            }

            return versions;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return [];
        }
    }
}
