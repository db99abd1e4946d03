using System.Globalization;

namespace Shards.Load;

/// <summary>The state of a run, once a second.</summary>
/// <param name="Rate">Successful transactions per second over the last second.</param>
/// <param name="InFlight">Calls waiting for an answer.</param>
public sealed record LoadTick(double ElapsedSeconds, double? DurationSeconds, long Ok, long Failed, double Rate, long InFlight);

/// <summary>What a load run tells while it works (the report comes at the end).</summary>
public interface ILoadObserver
{
    /// <summary>Says nothing (tests).</summary>
    static readonly ILoadObserver None = new Silent();

    /// <summary>A step starts: preparing, running, reading back.</summary>
    void Phase(string message);

    /// <summary><paramref name="done"/> of <paramref name="total"/> items of a step.</summary>
    void Preparing(string step, int done, int total);

    void Tick(LoadTick tick);

    void Chaos(ChaosEvent chaosEvent);

    private sealed class Silent : ILoadObserver
    {
        public void Phase(string message)
        {
        }

        public void Preparing(string step, int done, int total)
        {
        }

        public void Tick(LoadTick tick)
        {
        }

        public void Chaos(ChaosEvent chaosEvent)
        {
        }
    }
}

/// <summary>
/// Progress on stderr: on a terminal one line redrawn in place (each second while running); into a file or pipe a
/// line every 5 seconds. Chaos events and phases get lines of their own.
/// </summary>
public sealed class ConsoleLoadObserver : ILoadObserver
{
    private readonly bool _redirected = Console.IsErrorRedirected;
    private readonly Lock _lock = new();
    private int _lastWidth;
    private long _lastPreparingDraw;

    public void Phase(string message) => WriteLine(message);

    public void Preparing(string step, int done, int total)
    {
        var now = Environment.TickCount64;
        if (_redirected || (done < total && now - Interlocked.Read(ref _lastPreparingDraw) < 250))
        {
            return;
        }

        Interlocked.Exchange(ref _lastPreparingDraw, now);
        Redraw($"  {step}: {done}/{total}");
        if (done == total)
        {
            EndLine();
        }
    }

    public void Tick(LoadTick tick)
    {
        var of = tick.DurationSeconds is { } duration ? $"/{duration.ToString("0", CultureInfo.InvariantCulture)}" : string.Empty;
        var text = string.Create(
            CultureInfo.InvariantCulture,
            $"  {tick.ElapsedSeconds,5:0} s{of}  transactions {tick.Ok}  failed {tick.Failed}  rate {tick.Rate:0} trans/sec  in flight {tick.InFlight}");
        if (!_redirected)
        {
            Redraw(text);
        }
        else if ((int)Math.Round(tick.ElapsedSeconds) % 5 == 0)
        {
            WriteLine(text);
        }
    }

    public void Chaos(ChaosEvent chaosEvent) =>
        WriteLine(string.Create(CultureInfo.InvariantCulture, $"  [{chaosEvent.AtSeconds:0.00} s] chaos{(chaosEvent.Nemesis is { } nemesis ? $" ({nemesis})" : string.Empty)}: {chaosEvent.Action} {chaosEvent.Detail}"));

    /// <summary>Ends a redrawn line so that what follows starts on a line of its own.</summary>
    public void Finish() => EndLine();

    private void Redraw(string text)
    {
        lock (_lock)
        {
            Console.Error.Write("\r" + text.PadRight(_lastWidth));
            _lastWidth = text.Length;
        }
    }

    private void WriteLine(string text)
    {
        lock (_lock)
        {
            if (_lastWidth > 0)
            {
                Console.Error.Write("\r" + new string(' ', _lastWidth) + "\r");
                _lastWidth = 0;
            }

            Console.Error.WriteLine(text);
        }
    }

    private void EndLine()
    {
        lock (_lock)
        {
            if (_lastWidth > 0)
            {
                Console.Error.WriteLine();
                _lastWidth = 0;
            }
        }
    }
}
