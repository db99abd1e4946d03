namespace Shards.Bench;

/// <summary>The scaling suite's memory arithmetic: bytes per activation, and how many more keys fit in the memory left.</summary>
public static class ScalingMemory
{
    private const double BytesPerMb = 1024 * 1024;

    /// <summary>
    /// (RSS now - RSS just after start) / activations, in bytes; null without activations. It can come out negative
    /// when a collection shrank the heap below its idle size; that is reported as it is, not hidden.
    /// </summary>
    public static double? BytesPerActivation(double idleRssMb, double rssMb, long activations) =>
        activations <= 0 ? null : (rssMb - idleRssMb) * BytesPerMb / activations;

    /// <summary>The total over silos: summed RSS growth over summed activations.</summary>
    public static double? BytesPerActivation(IReadOnlyList<ScalingSilo> silos) =>
        BytesPerActivation(silos.Sum(s => s.IdleRssMb), silos.Sum(s => s.RssMb), silos.Sum(s => s.Activations));

    /// <summary>
    /// How far a step may grow the active keys: <paramref name="target"/>, or fewer when <paramref name="mbPerKey"/>
    /// (measured on the previous step; null before any) times <paramref name="safety"/> would take MemAvailable below
    /// <paramref name="reserveMb"/>. Never below <paramref name="active"/>.
    /// </summary>
    public static int KeysThatFit(int active, int target, double availableMb, int reserveMb, double? mbPerKey, double safety = 1.5)
    {
        if (mbPerKey is not { } perKey || perKey <= 0)
        {
            return target;
        }

        var room = Math.Max(0, availableMb - reserveMb) / (perKey * safety);
        return (int)Math.Clamp(active + Math.Floor(room), active, target);
    }
}
