using System.Diagnostics;
using System.Net;
using Npgsql;
using Shards.Tests.Api;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Faults;

/// <summary>
/// A slow PostgreSQL: a transaction holds an exclusive lock on the grain storage table, so every state write waits.
/// A write through the HTTP API ends, within the storage command timeout and the API's retry budget, in a 503 whose
/// message says the state could not be stored; a read of an active grain still answers at once; nothing changed; and
/// once the lock is gone writes work again.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class SlowPostgresTests
{
    private const string Key = "slow-key";

    [Fact(Timeout = 120_000)]
    public async Task A_write_blocked_by_a_lock_on_the_storage_table_times_out_clearly_while_reads_of_active_grains_answer()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("slow");
        await using var silo = ApiSilo.Start(
            connectionString,
            $"Shards:Api:Keys:0={Key}",
            "Shards:Storage:CommandTimeout=00:00:02",
            "Shards:Api:AttemptTimeout=00:00:03",
            "Shards:Api:RetryBudget=00:00:05");
        await silo.Started;
        using var http = await silo.ClientAsync(Key);
        http.Timeout = TimeSpan.FromSeconds(60);
        Assert.Equal(HttpStatusCode.OK, (await http.PutJsonAsync("/api/products/sku-slow", """{"name":"Anvil","price":80,"stock":5}""")).StatusCode);

        await using (var blocker = new NpgsqlConnection(connectionString))
        {
            await blocker.OpenAsync();
            await using var transaction = await blocker.BeginTransactionAsync();
            await using (var lockTable = new NpgsqlCommand("LOCK TABLE orleans_storage IN ACCESS EXCLUSIVE MODE", blocker, transaction))
            {
                await lockTable.ExecuteNonQueryAsync();
            }

            var watch = Stopwatch.StartNew();
            var write = await http.PutJsonAsync("/api/products/sku-slow", """{"name":"Anvil","price":80,"stock":99}""");
            var writeTook = watch.Elapsed;
            var detail = await write.AssertProblemAsync(503, "unavailable");
            watch.Restart();
            var read = await http.GetAsync("/api/products/sku-slow");
            var readTook = watch.Elapsed;

            Assert.True(writeTook < TimeSpan.FromSeconds(15), $"the blocked write took {writeTook}");
            Assert.Contains("outcome is unknown", detail, StringComparison.Ordinal);
            Assert.DoesNotContain("Npgsql", detail, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Exception", detail, StringComparison.Ordinal);
            Assert.DoesNotContain("orleans_storage", detail, StringComparison.Ordinal);
            Assert.NotNull(write.RetryAfter());
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Equal(5, (await read.JsonAsync()).GetProperty("stock").GetInt32());
            Assert.True(readTook < TimeSpan.FromSeconds(2), $"a read of the active grain took {readTook}");

            // Attempts the API already sent end by the storage command timeout while the lock is still held: a 503 is
            // "outcome unknown" (retry with the same Idempotency-Key), and here the write must not have landed. The API
            // sends no attempt after its 503, and the grain takes one call at a time, so the read above came after
            // every attempt: once no session waits for the lock, none will, and the lock can go.
            await WaitUntilNoSessionWaitsForALockAsync(connectionString);
            await transaction.RollbackAsync();
        }

        var unchanged = await (await http.GetAsync("/api/products/sku-slow")).JsonAsync();
        var retried = await http.PutJsonAsync("/api/products/sku-slow", """{"name":"Anvil","price":80,"stock":99}""");

        Assert.Equal((5, 1L), (unchanged.GetProperty("stock").GetInt32(), unchanged.GetProperty("version").GetInt64()));
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal(99, (await retried.JsonAsync()).GetProperty("stock").GetInt32());
    }

    private static async Task WaitUntilNoSessionWaitsForALockAsync(string connectionString)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30); // only catches a hang: each blocked statement ends at the command timeout
        while (await Sql.ScalarAsync<long>(
                   connectionString,
                   "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()") > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "a statement still waits for the lock after 30 s");
            await Task.Delay(50);
        }
    }
}
