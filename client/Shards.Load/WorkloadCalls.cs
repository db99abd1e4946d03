using System.Diagnostics;
using Shards.History;

namespace Shards.Load;

/// <summary>
/// The workload's calls and their history: what a client calls next, the call itself with its operations invoked in
/// the history first (<see cref="Recorder"/>), and the keys of the history: a counter per cart line used, a register
/// per product. Thread-safe.
/// </summary>
internal sealed class WorkloadCalls
{
    private readonly ILoadTarget _target;
    private readonly LoadOptions _options;
    private readonly LoadWorkload _workload;
    private readonly string[] _lineKeys;
    private readonly string[] _productKeys;
    private readonly int[] _lineUsed;
    private long _writeSequence;
    private int _hot;

    public WorkloadCalls(ILoadTarget target, LoadOptions options, LoadWorkload workload)
    {
        _target = target;
        _options = options;
        _workload = workload;
        _lineKeys = new string[workload.Cells];
        _lineUsed = new int[workload.Cells];
        _productKeys = Enumerable.Range(0, LoadWorkload.Products + 1).Select(p => p == 0 ? string.Empty : LoadWorkload.ProductKey(p)).ToArray();
    }

    /// <summary>Every operation of the run, the preparation and the read-back.</summary>
    public HistoryRecorder Recorder { get; } = new(Stopwatch.GetTimestamp());

    /// <summary>While hot, every cart call goes to the first cart (<see cref="HotKeysChaos"/>).</summary>
    public void SetHot(bool hot) => Volatile.Write(ref _hot, hot ? 1 : 0);

    /// <summary>The history key of product <paramref name="product"/> (1-based).</summary>
    public string ProductKey(int product) => _productKeys[product];

    /// <summary>
    /// What a client does next: a product call (<see cref="LoadOptions.ProductPercent"/>) or a cart call, a write
    /// (<see cref="LoadOptions.WritePercent"/>) or a read; on a random cart, or on the first one while the clients are hot.
    /// </summary>
    public LoadCall Next()
    {
        var cart = Volatile.Read(ref _hot) == 1 ? 0 : Random.Shared.Next(_workload.Keys);
        var write = Random.Shared.Next(100) < _options.WritePercent;
        if (Random.Shared.Next(100) < _options.ProductPercent)
        {
            return new LoadCall(cart, -1, LoadWorkload.ProductOf(cart), write);
        }

        return new LoadCall(cart, write ? Random.Shared.Next(_workload.SkusPerCart) : -1, 0, write);
    }

    /// <summary>
    /// Makes the call, its operations in the history invoked first; the failure, if any, and the operations to
    /// complete. <paramref name="abort"/> is cancelled when the run returns.
    /// </summary>
    public async Task<(Exception? Failure, CallHistory History)> CallAsync(int client, LoadCall call, CancellationToken abort)
    {
        var history = CallHistory.None;
        Exception? failure = null;
        try
        {
            if (call.Product > 0 && call.Write)
            {
                var sequence = Interlocked.Increment(ref _writeSequence);
                history = new CallHistory([Recorder.Invoke(client, OperationKind.Write, _productKeys[call.Product], sequence)]);
                await _target.UpsertProductAsync(LoadWorkload.Sku(call.Product), LoadWorkload.ProductName(call.Product, sequence), 1m + call.Product, LoadWorkload.ProductStock, abort);
            }
            else if (call.Product > 0)
            {
                history = new CallHistory([Recorder.Invoke(client, OperationKind.Read, _productKeys[call.Product])]);
                history.Values = [LoadWorkload.ProductValue(await _target.ReadProductNameAsync(LoadWorkload.Sku(call.Product), abort))];
            }
            else if (call.Write)
            {
                var cell = _workload.Cell(call.Cart, call.Slot);
                Volatile.Write(ref _lineUsed[cell], 1);
                history = new CallHistory([Recorder.Invoke(client, OperationKind.Add, LineKey(cell), 1)]);
                await _target.AddToCartAsync(LoadWorkload.CartId(call.Cart), _workload.SkuOf(call.Cart, call.Slot), 1, abort);
            }
            else
            {
                history = new CallHistory(InvokeLineReads(client, call.Cart));
                var lines = await _target.ReadCartAsync(LoadWorkload.CartId(call.Cart), abort);
                history.Values = _workload.SlotQuantities(call.Cart, lines).Select(q => (long?)q).ToArray();
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        return (failure, history);
    }

    /// <summary>A cart read is a read of each of its lines.</summary>
    public PendingOperation[] InvokeLineReads(int client, int cart)
    {
        var reads = new PendingOperation[_workload.SkusPerCart];
        for (var slot = 0; slot < reads.Length; slot++)
        {
            var cell = _workload.Cell(cart, slot);
            Volatile.Write(ref _lineUsed[cell], 1);
            reads[slot] = Recorder.Invoke(client, OperationKind.Read, LineKey(cell));
        }

        return reads;
    }

    /// <summary>A product upsert with a value of its own, in the history under <paramref name="client"/>.</summary>
    public async Task UpsertProductAsync(int client, int product, CancellationToken cancellationToken)
    {
        var sequence = Interlocked.Increment(ref _writeSequence);
        var pending = Recorder.Invoke(client, OperationKind.Write, _productKeys[product], sequence);
        try
        {
            await _target.UpsertProductAsync(LoadWorkload.Sku(product), LoadWorkload.ProductName(product, sequence), 1m + product, LoadWorkload.ProductStock, cancellationToken);
        }
        catch (Exception ex)
        {
            Recorder.Complete(pending, LoadOutcomes.Classify(ex), error: FailureText.OneLine(ex.Message));
            throw;
        }

        Recorder.Complete(pending, OperationOutcome.Ok);
    }

    /// <summary>
    /// The history with its keys declared: each line used from its quantity before the run (<paramref name="initial"/>,
    /// per cell); each product with nothing (its set-up writes are in the history).
    /// </summary>
    public History.History Declared(IReadOnlyList<int> initial)
    {
        for (var cell = 0; cell < _lineUsed.Length; cell++)
        {
            if (Volatile.Read(ref _lineUsed[cell]) == 1)
            {
                Recorder.Declare(LineKey(cell), KeyModel.Counter, initial[cell]);
            }
        }

        for (var product = 1; product <= LoadWorkload.Products; product++)
        {
            Recorder.Declare(_productKeys[product], KeyModel.Register, null);
        }

        return Recorder.Snapshot();
    }

    private string LineKey(int cell) =>
        _lineKeys[cell] ??= _workload.LineKey(cell / _workload.SkusPerCart, cell % _workload.SkusPerCart);
}
