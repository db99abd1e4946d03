using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Shards.Postgres;

/// <summary>One versioned SQL file shipped inside this assembly.</summary>
public sealed record Migration(string Version, string Sql)
{
    public string Checksum { get; } = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)))[..16];
}

/// <summary>What <see cref="SchemaMigrator.ApplyAsync"/> did.</summary>
public sealed record MigrationReport(IReadOnlyList<string> Applied, IReadOnlyList<string> AlreadyCurrent);

/// <summary>
/// Applies Shards' own schema for Orleans' ADO.NET providers (membership, grain state, reminders):
/// the numbered files in <c>Database/Migrations</c>, each idempotent, each recorded with its checksum in
/// <c>shards_schema_migrations</c>. A file is run again when its text changed. Silos, tests and
/// <c>shards db init</c> call it; an advisory lock keeps concurrent callers from interleaving.
/// </summary>
/// <param name="database">The database to migrate (its data source: <see cref="PostgresDataSources"/>).</param>
public sealed class SchemaMigrator(NpgsqlDataSource database)
{
    private const string ResourcePrefix = "Shards.Migrations.";
    private const long AdvisoryLockKey = 0x5348_4152_4453; // "SHARDS"

    /// <summary>The migrations in the order they apply.</summary>
    public static IReadOnlyList<Migration> Migrations { get; } = LoadMigrations();

    public async Task<MigrationReport> ApplyAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(connection, "SELECT pg_advisory_lock(@key)", cancellationToken, AdvisoryLockKey);
        try
        {
            await ExecuteAsync(
                connection,
                """
                CREATE TABLE IF NOT EXISTS shards_schema_migrations (
                    version    text        PRIMARY KEY,
                    checksum   text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """,
                cancellationToken);

            var known = new Dictionary<string, string>(StringComparer.Ordinal);
            await using (var read = new NpgsqlCommand("SELECT version, checksum FROM shards_schema_migrations", connection))
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    known[reader.GetString(0)] = reader.GetString(1);
                }
            }

            var applied = new List<string>();
            var current = new List<string>();
            foreach (var migration in Migrations)
            {
                if (known.TryGetValue(migration.Version, out var checksum) && checksum == migration.Checksum)
                {
                    current.Add(migration.Version);
                    continue;
                }

                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using (var apply = new NpgsqlCommand(migration.Sql, connection, transaction))
                {
                    await apply.ExecuteNonQueryAsync(cancellationToken);
                }

                await using (var record = new NpgsqlCommand(
                    """
                    INSERT INTO shards_schema_migrations (version, checksum) VALUES (@version, @checksum)
                    ON CONFLICT (version) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()
                    """, connection, transaction))
                {
                    record.Parameters.AddWithValue("version", migration.Version);
                    record.Parameters.AddWithValue("checksum", migration.Checksum);
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                applied.Add(migration.Version);
            }

            return new MigrationReport(applied, current);
        }
        finally
        {
            await ExecuteAsync(connection, "SELECT pg_advisory_unlock(@key)", CancellationToken.None, AdvisoryLockKey);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, long? key = null)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (key is { } value)
        {
            command.Parameters.AddWithValue("key", value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static List<Migration> LoadMigrations()
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(name => new Migration(name[ResourcePrefix.Length..^".sql".Length], ReadResource(assembly, name)))
            .ToList();
    }

    private static string ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Migration resource {name} is missing.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
