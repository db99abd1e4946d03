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
}
