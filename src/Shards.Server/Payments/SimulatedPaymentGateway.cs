using System.Globalization;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Shards.Contracts.Common;
using Shards.Grains.Payments;

namespace Shards.Server.Payments;

/// <summary>
/// The default <see cref="IPaymentGateway"/>: a card processor simulated by the rules of
/// <see cref="SimulatedPaymentGatewayOptions"/> (decline and timeout tokens, an amount limit), with a real book of
/// charges in PostgreSQL (<c>shards_payment_ledger</c>, migration 0006): at most one charge per idempotency key, a
/// repeat answers the first outcome, a refund gives back what was charged once. A database failure reaches the caller
/// as a transient <see cref="ShardsException"/> (StorageUnavailable), never as a driver exception.
/// </summary>
/// <param name="database">The main database (where migration 0006 put the ledger): its data source, the silo's.</param>
public sealed class SimulatedPaymentGateway(
    NpgsqlDataSource database,
    IOptions<ClusterOptions> cluster,
    IOptions<SimulatedPaymentGatewayOptions> options,
    TimeProvider time) : IPaymentGateway
{
    public async Task<GatewayCharge> ChargeAsync(string idempotencyKey, decimal amount, string paymentToken, CancellationToken cancellationToken)
    {
        var rules = options.Value;
        await DelayAsync(rules.ResponseDelay, cancellationToken);
        var declineReason =
            paymentToken.StartsWith(rules.DeclinePrefix, StringComparison.Ordinal) ? $"card declined (token {paymentToken})"
            : amount > rules.MaxApprovedAmount ? $"amount {Money(amount)} is over the card's limit of {Money(rules.MaxApprovedAmount)}"
            : null;
        var reference = $"sim-{Guid.NewGuid():N}"[..20];
        var charge = await RunAsync(async connection =>
        {
            await using (var insert = new NpgsqlCommand(
                """
                INSERT INTO shards_payment_ledger (serviceid, payment_id, amount, token, approved, reference, decline_reason)
                VALUES (@service, @payment, @amount, @token, @approved, @reference, @reason)
                ON CONFLICT (serviceid, payment_id) DO NOTHING
                """, connection))
            {
                AddKey(insert, idempotencyKey);
                insert.Parameters.AddWithValue("amount", amount);
                insert.Parameters.AddWithValue("token", paymentToken);
                insert.Parameters.AddWithValue("approved", declineReason is null);
                insert.Parameters.AddWithValue("reference", reference);
                insert.Parameters.AddWithValue("reason", (object?)declineReason ?? DBNull.Value);
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var read = new NpgsqlCommand(
                "SELECT approved, reference, decline_reason FROM shards_payment_ledger WHERE serviceid = @service AND payment_id = @payment", connection);
            AddKey(read, idempotencyKey);
            await using var row = await read.ExecuteReaderAsync(cancellationToken);
            await row.ReadAsync(cancellationToken);
            return new GatewayCharge(row.GetBoolean(0), row.GetString(1), row.IsDBNull(2) ? null : row.GetString(2));
        }, cancellationToken);

        if (paymentToken.StartsWith(rules.TimeoutPrefix, StringComparison.Ordinal))
        {
            // The charge is in the book, but the answer never comes: the caller's timeout ends the wait.
            await Task.Delay(Timeout.InfiniteTimeSpan, time, cancellationToken);
        }

        return charge;
    }

    public async Task<bool> RefundAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        await DelayAsync(options.Value.ResponseDelay, cancellationToken);
        return await RunAsync(async connection =>
        {
            // A payment never charged gets a voided row first: a charge arriving after its refund is then refused.
            await using (var voided = new NpgsqlCommand(
                """
                INSERT INTO shards_payment_ledger (serviceid, payment_id, amount, token, approved, reference, decline_reason, refunded_at)
                VALUES (@service, @payment, 0, '', false, 'voided', 'voided before any charge', now())
                ON CONFLICT (serviceid, payment_id) DO NOTHING
                """, connection))
            {
                AddKey(voided, idempotencyKey);
                await voided.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var refund = new NpgsqlCommand(
                """
                UPDATE shards_payment_ledger SET refunded_at = now()
                WHERE serviceid = @service AND payment_id = @payment AND approved AND refunded_at IS NULL
                """, connection);
            AddKey(refund, idempotencyKey);
            return await refund.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);
    }

    private void AddKey(NpgsqlCommand command, string idempotencyKey)
    {
        command.Parameters.AddWithValue("service", cluster.Value.ServiceId);
        command.Parameters.AddWithValue("payment", idempotencyKey);
    }

    private async Task<T> RunAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await database.OpenConnectionAsync(cancellationToken);
            return await work(connection);
        }
        catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException { Source: "Npgsql" })
        {
            throw new ShardsException(
                ShardsErrorCode.StorageUnavailable,
                $"The payment gateway could not reach its ledger ({exception.GetType().Name}). Retry: the ledger charges and refunds a payment at most once.");
        }
    }

    private Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        delay > TimeSpan.Zero ? Task.Delay(delay, time, cancellationToken) : Task.CompletedTask;

    private static string Money(decimal value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}
