namespace Shards.Load;

/// <summary>What one client is doing: idle, waiting for an answer, or given up on by the run.</summary>
internal sealed class ClientSlot
{
    private const int Idle = 0, InFlight = 1, GivenUp = 2;
    private int _state;

    public LoadCall Call { get; private set; }

    public long Started { get; private set; }

    public void Begin(LoadCall call, long started)
    {
        Call = call;
        Started = started;
        Volatile.Write(ref _state, InFlight);
    }

    /// <summary>True when the answer still counts (the run has not given up on it).</summary>
    public bool TryFinish() => Interlocked.CompareExchange(ref _state, Idle, InFlight) == InFlight;

    /// <summary>True when a call was in flight: it is now counted by the run, never by the client.</summary>
    public bool TryAbandon() => Interlocked.CompareExchange(ref _state, GivenUp, InFlight) == InFlight;
}
