using Npgsql;

namespace Shards.Postgres;

/// <summary>Which schema migrations a database has.</summary>
public static class SchemaStatus
{
    /// <summary>The applied migration versions, oldest first; empty when the schema was never applied.</summary>
    public static async Task<IReadOnlyList<string>> ReadAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
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
