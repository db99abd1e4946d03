using System.Diagnostics;

namespace Shards.Load;

/// <summary>
/// <c>shards load --chaos hot</c>: every client on one cart (<c>load-cart-00001</c>) and its product for a while, as
/// <c>--keys 1</c> would, then spread over all the carts again: the most writers one grain can get.
/// </summary>
public sealed class HotKeysChaos(TimeSpan length, Action<bool> setHot) : IChaos
{
    private long _struckAt;

    public Task<ChaosAction> StrikeAsync(CancellationToken cancellationToken)
    {
        setHot(true);
        Volatile.Write(ref _struckAt, Stopwatch.GetTimestamp());
        return Task.FromResult(new ChaosAction(
            "hot", $"every client on {LoadWorkload.CartId(0)} and {LoadWorkload.Sku(LoadWorkload.ProductOf(0))} for {LoadDuration.Format(length)}"));
    }

    public async Task WatchAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
    {
        var struckAt = Volatile.Read(ref _struckAt);
        if (struckAt == 0)
        {
            return;
        }

        try
        {
            var left = length - Stopwatch.GetElapsedTime(struckAt);
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended first.
        }

        setHot(false);
        onChange(new ChaosAction("cooled", $"clients spread over every cart again after {Stopwatch.GetElapsedTime(struckAt).TotalSeconds:0.0} s"));
    }

    public Task HealAsync()
    {
        setHot(false);
        return Task.CompletedTask;
    }
}
