namespace Shards.Grains.Orders;

/// <summary>How the checkout saga resumes (section <c>Shards:Checkout</c>).</summary>
public sealed class CheckoutOptions
{
    public const string Section = "Shards:Checkout";

    /// <summary>
    /// Period of the reminder each unfinished order holds (registered before its first step, removed when it is paid and
    /// delivered, or failed and compensated): after a silo crash it reactivates the order on a survivor, which resumes.
    /// Orleans refuses periods under its MinimumReminderPeriod (1 minute by default).
    /// </summary>
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>While the order is active, how soon a step that failed transiently (or an unacknowledged delivery) is tried again.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long after it was accepted an order may still be on its way to being paid (Accepted, Reserving, Paying).
    /// Past it, the saga stops retrying forward and compensates: a payment that was asked for is refunded whatever its
    /// outcome (the payment grain runs the refund after any charge still in flight, stores Refunded so no charge follows,
    /// and the gateway gives back whatever was charged under the order's payment ID, an outcome never stored included),
    /// then every reservation is released and the cart unlocked.
    /// </summary>
    public TimeSpan SagaDeadline { get; set; } = TimeSpan.FromMinutes(2);
}
