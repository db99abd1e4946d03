using Shards.Contracts.Events;
using Shards.Contracts.Orders;
using Shards.Storage;

namespace Shards.Grains.Orders;

/// <summary>
/// What the checkout service stores per order (the order ID is the grain key): the saga's stage and progress, its
/// step history, and the outbox, <see cref="Purchased"/> with its <see cref="Deliveries"/>, written in the same
/// storage write that marks the order paid. Treated as immutable: each step stores a new instance.
/// </summary>
[GenerateSerializer, Alias("shards.OrderState")]
public sealed record OrderState : IRequestLoggedState
{
    /// <summary>0 while no checkout was started under this order ID.</summary>
    [Id(0)]
    public CheckoutStage Stage { get; init; }

    [Id(1)]
    public string CartId { get; init; } = "";

    [Id(2)]
    public string PaymentToken { get; init; } = "";

    /// <summary>The cart's lines when checkout locked it.</summary>
    [Id(3)]
    public OrderLineState[] Lines { get; init; } = [];

    [Id(4)]
    public decimal Total { get; init; }

    /// <summary>How many of <see cref="Lines"/> (in order) are reserved.</summary>
    [Id(5)]
    public int LinesReserved { get; init; }

    /// <summary>True once the payment was asked for: from then on compensation refunds it.</summary>
    [Id(6)]
    public bool PaymentRequested { get; init; }

    [Id(7)]
    public string? FailureReason { get; init; }

    [Id(8)]
    public OrderStepState[] Steps { get; init; } = [];

    /// <summary>The outbox: <c>purchased</c>, set in the write that marks the order paid.</summary>
    [Id(9)]
    public PurchasedEvent? Purchased { get; init; }

    /// <summary>One entry per subscriber grain the event goes to, acknowledged or not.</summary>
    [Id(10)]
    public DeliveryState[] Deliveries { get; init; } = [];

    /// <summary>The request ID of the checkout call that created the order (a repeat with it answers "created").</summary>
    [Id(11)]
    public Guid? StartedBy { get; init; }

    [Id(12)]
    public DateTimeOffset CreatedAt { get; init; }

    [Id(13)]
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>
    /// The undo steps of compensation that were refused for good (<c>refund</c>, <c>release:SKU</c>, <c>unlock</c>):
    /// each is recorded once in <see cref="Steps"/> as "could not be undone" and never tried again.
    /// </summary>
    [Id(14)]
    public string[] UndoFailed { get; init; } = [];

    // The exchange with the storage's request log (docs/exactly-once.md): never part of the stored state.
    [NonSerialized]
    private LoggedRequest? _applying;

    [NonSerialized]
    private IReadOnlyList<LoggedRequest>? _recent;

    LoggedRequest? IRequestLoggedState.Applying { get => _applying; set => _applying = value; }

    IReadOnlyList<LoggedRequest>? IRequestLoggedState.Recent { get => _recent; set => _recent = value; }
}

[GenerateSerializer, Alias("shards.OrderLineState")]
public sealed record OrderLineState
{
    [Id(0)]
    public string Sku { get; init; } = "";

    [Id(1)]
    public int Quantity { get; init; }

    [Id(2)]
    public decimal UnitPrice { get; init; }
}

[GenerateSerializer, Alias("shards.OrderStepState")]
public sealed record OrderStepState
{
    [Id(0)]
    public string Step { get; init; } = "";

    [Id(1)]
    public string Detail { get; init; } = "";

    [Id(2)]
    public DateTimeOffset At { get; init; }
}

/// <summary>Delivery of the outbox event to one subscriber grain (<c>GrainType/Key</c>) of subscription <see cref="Subscription"/>.</summary>
[GenerateSerializer, Alias("shards.DeliveryState")]
public sealed record DeliveryState
{
    [Id(0)]
    public string Subscription { get; init; } = "";

    [Id(1)]
    public string GrainType { get; init; } = "";

    [Id(2)]
    public string Key { get; init; } = "";

    [Id(3)]
    public bool Acknowledged { get; init; }

    /// <summary>Deliveries tried, the acknowledged one included (stored with the next write of the order).</summary>
    [Id(4)]
    public int Attempts { get; init; }

    [Id(5)]
    public DateTimeOffset? LastAttemptAt { get; init; }

    [Id(6)]
    public DateTimeOffset? AcknowledgedAt { get; init; }

    /// <summary>Why the last attempt failed (the error's type and message); null once acknowledged.</summary>
    [Id(7)]
    public string? LastError { get; init; }
}
