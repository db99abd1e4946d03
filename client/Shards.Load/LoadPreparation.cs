using Shards.History;
using static Shards.Load.PatientRetry;

namespace Shards.Load;

/// <summary>
/// Before the run: the products upserted (in the history), and every cart's starting quantities read (a cart with an
/// over-full line emptied first) and its silo located; each retried while the cluster is not ready, within 30 s.
/// </summary>
internal sealed class LoadPreparation(
    ILoadTarget target, LoadWorkload workload, WorkloadCalls calls, CartLocations locations, ILoadObserver observer)
{
    private static readonly TimeSpan s_budget = TimeSpan.FromSeconds(30);

    private readonly int[] _startingQuantities = new int[workload.Cells];

    /// <summary>The quantity of each (cart, slot) cell before the run (<see cref="LoadWorkload.Cell"/>).</summary>
    public IReadOnlyList<int> StartingQuantities => _startingQuantities;

    /// <summary>Products upserted; every cart's starting quantities (over-full lines emptied) and silo.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var deadline = DeadlineAfter(s_budget);
        observer.Phase($"Preparing: upserting {LoadWorkload.Products} products, reading and locating {workload.Keys} carts ...");
        // Each attempt writes a value of its own and is in the history: one whose answer was lost may still land later.
        await Parallel.ForEachAsync(Enumerable.Range(1, LoadWorkload.Products), Bounded(cancellationToken), async (product, ct) =>
            await RetryAsync(
                async () =>
                {
                    await calls.UpsertProductAsync(Operation.Prepare, product, ct);
                    return true;
                },
                deadline,
                ct));

        var done = 0;
        var emptied = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, workload.Keys), Bounded(cancellationToken), async (cart, ct) =>
        {
            var cartId = LoadWorkload.CartId(cart);
            var quantities = workload.SlotQuantities(cart, await RetryAsync(() => target.ReadCartAsync(cartId, ct), deadline, ct));
            if (quantities.Any(q => q > LoadWorkload.ResetLineAbove))
            {
                await RetryAsync(
                    async () =>
                    {
                        await target.ClearCartAsync(cartId, ct);
                        return true;
                    },
                    deadline,
                    ct);
                quantities = workload.SlotQuantities(cart, await RetryAsync(() => target.ReadCartAsync(cartId, ct), deadline, ct));
                Interlocked.Increment(ref emptied);
            }

            quantities.CopyTo(_startingQuantities, workload.Cell(cart, 0));
            await locations.LocateAsync(cart, () => RetryAsync(() => target.LocateCartAsync(cartId, ct), deadline, ct));

            observer.Preparing("carts", Interlocked.Increment(ref done), workload.Keys);
        });
        if (emptied > 0)
        {
            observer.Phase($"Emptied {emptied} cart(s) with a line above {LoadWorkload.ResetLineAbove} units (a line holds at most 10000).");
        }
    }
}
