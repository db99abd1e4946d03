using System.Collections.Concurrent;
using Shards.Contracts.Common;
using Shards.Load;

namespace Shards.Tests.Load;

/// <summary>What a fake store does with one write.</summary>
internal enum WriteFault
{
    None,
    FailBeforeApplying,
    FailAfterApplying,
    ApplyTwice,
    AcknowledgeWithoutApplying,
    NeverAnswer,

    /// <summary>A domain refusal (validation): nothing applied, and the caller is told so.</summary>
    Refuse,

    /// <summary>Applied, but answered with a domain refusal: a store that lies about a definite outcome.</summary>
    RefuseAfterApplying,
}

/// <summary>What a fake store does with one product read.</summary>
internal enum ReadFault
{
    None,

    /// <summary>Answers the name the product had before its latest upsert (a stale replica).</summary>
    Stale,
}

/// <summary>
/// A load target in memory with injectable faults per cart write and per product read (each numbered from 1), so that
/// the runner's bookkeeping and the history checker can be checked against stores that lose, double or half-apply
/// writes, or serve stale reads. Carts live on three pretend silos.
/// </summary>
internal sealed class InMemoryLoadTarget : ILoadTarget
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, int>> _carts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Name, string? Previous)> _products = new(StringComparer.Ordinal);
    private long _writes;
    private long _productReads;

    public Func<long, WriteFault> Faults { get; init; } = _ => WriteFault.None;

    public Func<long, ReadFault> ProductReadFaults { get; init; } = _ => ReadFault.None;

    /// <summary>When set, carts of this silo answer from silo-3 (as after a failover).</summary>
    public string? MovedAway { get; set; }

    public string Name => "memory";

    public long Writes => Interlocked.Read(ref _writes);

    public Task UpsertProductAsync(string sku, string name, decimal price, int stock, CancellationToken cancellationToken)
    {
        _products.AddOrUpdate(sku, (name, null), (_, old) => (name, old.Name));
        return Task.CompletedTask;
    }

    public async Task<string?> ReadProductNameAsync(string sku, CancellationToken cancellationToken)
    {
        await Task.Yield();
        var fault = ProductReadFaults(Interlocked.Increment(ref _productReads));
        return _products.TryGetValue(sku, out var product) ? (fault == ReadFault.Stale ? product.Previous ?? product.Name : product.Name) : null;
    }

    public async Task<IReadOnlyDictionary<string, int>> ReadCartAsync(string cartId, CancellationToken cancellationToken)
    {
        await Task.Yield();
        return Cart(cartId).ToDictionary(StringComparer.Ordinal);
    }

    public async Task AddToCartAsync(string cartId, string sku, int quantity, CancellationToken cancellationToken)
    {
        await Task.Yield();
        var fault = Faults(Interlocked.Increment(ref _writes));
        switch (fault)
        {
            case WriteFault.NeverAnswer:
                await Task.Delay(Timeout.Infinite, cancellationToken);
                break;
            case WriteFault.FailBeforeApplying:
                throw new TimeoutException("pretend: no answer, nothing applied");
            case WriteFault.Refuse:
                throw new ShardsException(ShardsErrorCode.Validation, "pretend: refused, nothing applied");
            case WriteFault.AcknowledgeWithoutApplying:
                return;
            case WriteFault.ApplyTwice:
                Apply(cartId, sku, quantity);
                break;
        }

        Apply(cartId, sku, quantity);
        if (fault == WriteFault.FailAfterApplying)
        {
            throw new TimeoutException("pretend: applied, but the answer was lost");
        }

        if (fault == WriteFault.RefuseAfterApplying)
        {
            throw new ShardsException(ShardsErrorCode.Conflict, "pretend: applied, yet refused");
        }
    }

    public Task ClearCartAsync(string cartId, CancellationToken cancellationToken)
    {
        Cart(cartId).Clear();
        return Task.CompletedTask;
    }

    public Task<string?> LocateCartAsync(string cartId, CancellationToken cancellationToken)
    {
        var silo = $"silo-{1 + (int)((uint)StringComparer.Ordinal.GetHashCode(cartId) % 3)}";
        return Task.FromResult<string?>(silo == MovedAway ? "silo-3" : silo);
    }

    public void Set(string cartId, string sku, int quantity) => Cart(cartId)[sku] = quantity;

    public int Quantity(string cartId, string sku) => Cart(cartId).GetValueOrDefault(sku);

    private void Apply(string cartId, string sku, int quantity) => Cart(cartId).AddOrUpdate(sku, quantity, (_, q) => q + quantity);

    private ConcurrentDictionary<string, int> Cart(string cartId) =>
        _carts.GetOrAdd(cartId, _ => new ConcurrentDictionary<string, int>(StringComparer.Ordinal));
}
