using Shards.Contracts.Common;
using Shards.Contracts.Orders;

namespace Shards.Tests.Checkout;

/// <summary>What a client of the checkout service does while the cluster or PostgreSQL fails under it.</summary>
internal static class OrderClient
{
    /// <summary>Re-sends the same order (safe: checkout is idempotent by order ID) until it is Paid or Failed.</summary>
    public static async Task<OrderView> CheckoutUntilDecidedAsync(
        IGrainFactory grains, string orderId, string cartId, string token, DateTime deadline, TimeSpan pause)
    {
        while (true)
        {
            try
            {
                var outcome = await grains.GetGrain<ICheckoutGrain>(orderId).CheckoutAsync(cartId, token);
                if (outcome.Order.Status != OrderStatus.Pending)
                {
                    return outcome.Order;
                }
            }
            catch (Exception exception) when (ShardsFailures.IsTransient(exception) && DateTime.UtcNow < deadline)
            {
                // a silo died or PostgreSQL is down under the call: the same order ID is safe to send again
            }

            Assert.True(DateTime.UtcNow < deadline, $"order {orderId} had no outcome in time");
            await Task.Delay(pause);
        }
    }

    /// <summary>Reads the order until its saga has completed or failed (compensation included).</summary>
    public static async Task<OrderView> PollUntilSettledAsync(IGrainFactory grains, string orderId, DateTime deadline)
    {
        while (true)
        {
            try
            {
                var order = (await grains.GetGrain<ICheckoutGrain>(orderId).GetAsync())!;
                if (order.Stage is CheckoutStage.Completed or CheckoutStage.Failed)
                {
                    return order;
                }
            }
            catch (Exception exception) when (ShardsFailures.IsTransient(exception) && DateTime.UtcNow < deadline)
            {
            }

            Assert.True(DateTime.UtcNow < deadline, $"order {orderId} did not settle in time");
            await Task.Delay(100);
        }
    }
}
