namespace Paas.Core.Metrics;

/// <summary>
/// The latency buckets every part of the platform agrees on: the router counts requests into them, the
/// controller adds routers' counts together and estimates percentiles from the sums. Fixed bounds, so counts
/// from different routers and different minutes can be added bucket by bucket.
/// </summary>
public static class LatencyBuckets
{
    /// <summary>Upper bounds in seconds; a last, unbounded bucket follows. Spans a loopback hit to a slow app.</summary>
    public static readonly double[] BoundsSeconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    // The same bounds in Stopwatch-independent ticks (100 ns), so recording compares integers.
    private static readonly long[] BoundsTicks = Array.ConvertAll(BoundsSeconds, s => (long)Math.Round(s * TimeSpan.TicksPerSecond));

    /// <summary>Buckets per histogram, the unbounded one included.</summary>
    public static int Count => BoundsSeconds.Length + 1;

    /// <summary>The bucket a duration falls in: the first whose upper bound it does not exceed.</summary>
    public static int IndexOf(TimeSpan duration)
    {
        var ticks = duration.Ticks;
        // Most requests are fast: a forward scan ends in a few comparisons, without the branches of a binary search.
        var i = 0;
        while (i < BoundsTicks.Length && ticks > BoundsTicks[i])
            i++;
        return i;
    }

    /// <summary>
    /// The q-quantile (0..1) of the durations counted in <paramref name="counts"/> (one count per bucket, not
    /// cumulative), in seconds, interpolated linearly inside its bucket as Prometheus' histogram_quantile does.
    /// Null when nothing was counted. A quantile in the unbounded bucket is reported as the last bound.
    /// </summary>
    public static double? Quantile(ReadOnlySpan<long> counts, double q)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(q, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(q, 1);
        long total = 0;
        foreach (var c in counts)
            total += c;
        if (total == 0)
            return null;
        var rank = q * total;
        long below = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            var inBucket = counts[i];
            if (inBucket > 0 && below + inBucket >= rank)
            {
                if (i >= BoundsSeconds.Length)
                    return BoundsSeconds[^1];
                var lower = i == 0 ? 0 : BoundsSeconds[i - 1];
                var upper = BoundsSeconds[i];
                return lower + (upper - lower) * ((rank - below) / inBucket);
            }
            below += inBucket;
        }
        return BoundsSeconds[^1];
    }
}
