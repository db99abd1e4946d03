using Npgsql;

namespace Shards.Tests.Checkout;

/// <summary>One row of the simulated gateway's ledger (shards_payment_ledger).</summary>
internal sealed record LedgerRow(string PaymentId, decimal Amount, bool Approved, bool Refunded);

/// <summary>Reads what the simulated gateway actually charged: the ground truth for "never charged twice".</summary>
internal static class PaymentLedger
{
    public static async Task<IReadOnlyList<LedgerRow>> ReadAsync(string connectionString, string? paymentId = null)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT payment_id, amount, approved, refunded_at IS NOT NULL FROM shards_payment_ledger WHERE @payment IS NULL OR payment_id = @payment",
            connection);
        command.Parameters.Add(new NpgsqlParameter("payment", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)paymentId ?? DBNull.Value });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<LedgerRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new LedgerRow(reader.GetString(0), reader.GetDecimal(1), reader.GetBoolean(2), reader.GetBoolean(3)));
        }

        return rows;
    }

    /// <summary>How many reminders the order holds (1 while its saga is unfinished, 0 once it is done).</summary>
    public static async Task<long> RemindersOfAsync(string connectionString, string orderId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM orleans_reminders WHERE grainid = @grain", connection);
        command.Parameters.AddWithValue("grain", $"checkout/{orderId}");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
