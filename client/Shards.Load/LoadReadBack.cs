using System.Collections.Concurrent;
using Shards.History;
using static Shards.Load.PatientRetry;

namespace Shards.Load;

/// <summary>
/// After the run: every cart that had a write read back and each of its lines checked against the
/// <see cref="WriteLedger"/>, and every product read back; in the history as final reads, retried while the cluster
/// recovers, within a budget.
/// </summary>
internal sealed class LoadReadBack(
    ILoadTarget target, LoadWorkload workload, WorkloadCalls calls, WriteLedger ledger, IReadOnlyList<int> startingQuantities, ILoadObserver observer)
{
    /// <summary>How long past the budget a read still in flight is waited for.</summary>
    private static readonly TimeSpan s_grace = TimeSpan.FromSeconds(5);

    /// <summary>Reads back every cart that had a write, retrying while the cluster recovers, and checks every line.</summary>
    public async Task<WriteCheck> ReadBackCartsAsync(TimeSpan budget)
    {
        var carts = Enumerable.Range(0, workload.Keys)
            .Where(cart => Enumerable.Range(0, workload.SkusPerCart).Any(slot => ledger.Touched(workload.Cell(cart, slot))))
            .ToList();
        observer.Phase($"Reading back {carts.Count} carts with writes (retrying for up to {budget.TotalSeconds:0} s while the cluster recovers) ...");
        var deadline = DeadlineAfter(budget);
        var finals = new ConcurrentDictionary<int, int[]>();
        using var giveUp = new CancellationTokenSource(budget + s_grace);
        var done = 0;
        try
        {
            await Parallel.ForEachAsync(carts, Bounded(giveUp.Token), async (cart, ct) =>
            {
                try
                {
                    var lines = await RetryAsync(() => ReadBackCartAsync(cart, ct), deadline, ct);
                    finals[cart] = workload.SlotQuantities(cart, lines);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || giveUp.IsCancellationRequested)
                {
                    // Unreadable in time: reported as not checked.
                }

                observer.Preparing("read back", Interlocked.Increment(ref done), carts.Count);
            });
        }
        catch (OperationCanceledException)
        {
            // The budget is spent: whatever was not read is not checked.
        }

        var cells = new List<WriteCell>();
        long acknowledgedUnchecked = 0, failedUnchecked = 0;
        foreach (var cart in carts)
        {
            for (var slot = 0; slot < workload.SkusPerCart; slot++)
            {
                var cell = workload.Cell(cart, slot);
                if (finals.TryGetValue(cart, out var final))
                {
                    cells.Add(new WriteCell(ledger.AcknowledgedAt(cell), ledger.FailedAt(cell), startingQuantities[cell], final[slot]));
                }
                else
                {
                    acknowledgedUnchecked += ledger.AcknowledgedAt(cell);
                    failedUnchecked += ledger.FailedAt(cell);
                }
            }
        }

        return WriteCheck.From(cells, finals.Count, carts.Count - finals.Count, acknowledgedUnchecked, failedUnchecked);
    }

    /// <summary>Reads every product back (final reads of the registers), retrying while the cluster recovers.</summary>
    public async Task ReadBackProductsAsync(TimeSpan budget)
    {
        var deadline = DeadlineAfter(budget);
        using var giveUp = new CancellationTokenSource(budget + s_grace);
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(1, LoadWorkload.Products), Bounded(giveUp.Token), async (product, ct) =>
            {
                try
                {
                    await RetryAsync(() => ReadBackProductAsync(product, ct), deadline, ct);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || giveUp.IsCancellationRequested)
                {
                    // Unreadable in time: its register has no final read.
                }
            });
        }
        catch (OperationCanceledException)
        {
            // The budget is spent.
        }
    }

    /// <summary>One attempt to read a cart back, in the history as final reads of its lines.</summary>
    private async Task<IReadOnlyDictionary<string, int>> ReadBackCartAsync(int cart, CancellationToken cancellationToken)
    {
        var reads = calls.InvokeLineReads(Operation.ReadBack, cart);
        IReadOnlyDictionary<string, int> lines;
        try
        {
            lines = await target.ReadCartAsync(LoadWorkload.CartId(cart), cancellationToken);
        }
        catch (Exception ex)
        {
            Array.ForEach(reads, read => calls.Recorder.Complete(read, LoadOutcomes.Classify(ex), error: FailureText.OneLine(ex.Message)));
            throw;
        }

        var quantities = workload.SlotQuantities(cart, lines);
        for (var slot = 0; slot < reads.Length; slot++)
        {
            calls.Recorder.Complete(reads[slot], OperationOutcome.Ok, quantities[slot]);
        }

        return lines;
    }

    /// <summary>One attempt to read a product back, in the history as the final read of its register.</summary>
    private async Task<bool> ReadBackProductAsync(int product, CancellationToken cancellationToken)
    {
        var read = calls.Recorder.Invoke(Operation.ReadBack, OperationKind.Read, calls.ProductKey(product));
        try
        {
            var name = await target.ReadProductNameAsync(LoadWorkload.Sku(product), cancellationToken);
            calls.Recorder.Complete(read, OperationOutcome.Ok, LoadWorkload.ProductValue(name));
            return true;
        }
        catch (Exception ex)
        {
            calls.Recorder.Complete(read, LoadOutcomes.Classify(ex), error: FailureText.OneLine(ex.Message));
            throw;
        }
    }
}
