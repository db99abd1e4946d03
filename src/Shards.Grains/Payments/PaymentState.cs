using Shards.Contracts.Payments;

namespace Shards.Grains.Payments;

/// <summary>What the payment service stores per payment (the order ID is the grain key). Treated as immutable.</summary>
[GenerateSerializer, Alias("shards.PaymentState")]
public sealed class PaymentState
{
    [Id(0)]
    public PaymentStatus Status { get; init; }

    [Id(1)]
    public decimal Amount { get; init; }

    [Id(2)]
    public string? Reference { get; init; }

    [Id(3)]
    public string? Reason { get; init; }

    [Id(4)]
    public DateTimeOffset? UpdatedAt { get; init; }
}
