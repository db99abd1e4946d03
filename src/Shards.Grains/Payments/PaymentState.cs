using Shards.Contracts.Payments;
using Shards.Storage;

namespace Shards.Grains.Payments;

/// <summary>What the payment service stores per payment (the order ID is the grain key). Treated as immutable.</summary>
[GenerateSerializer, Alias("shards.PaymentState")]
public sealed class PaymentState : IRequestLoggedState
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

    // The exchange with the storage's request log (docs/exactly-once.md): never part of the stored state.
    [NonSerialized]
    private LoggedRequest? _applying;

    [NonSerialized]
    private IReadOnlyList<LoggedRequest>? _recent;

    LoggedRequest? IRequestLoggedState.Applying { get => _applying; set => _applying = value; }

    IReadOnlyList<LoggedRequest>? IRequestLoggedState.Recent { get => _recent; set => _recent = value; }
}
