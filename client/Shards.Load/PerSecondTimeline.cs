namespace Shards.Load;

/// <summary>Successful and failed calls per second of the run. Thread-safe.</summary>
internal sealed class PerSecondTimeline
{
    private readonly List<(long Ok, long Failed)> _seconds = [];

    public void Add(int second, long ok, long failed)
    {
        lock (_seconds)
        {
            while (_seconds.Count <= second)
            {
                _seconds.Add((0, 0));
            }

            var (o, f) = _seconds[second];
            _seconds[second] = (o + ok, f + failed);
        }
    }

    public IReadOnlyList<SecondSample> Samples()
    {
        lock (_seconds)
        {
            return _seconds.Select((s, i) => new SecondSample(i, s.Ok, s.Failed)).ToList();
        }
    }
}
