namespace Paas.Core.Metrics;

/// <summary>
/// Request durations counted into <see cref="LatencyBuckets"/>: one array of counters, allocated once, so
/// recording a request is a comparison loop and two interlocked adds. Safe to record from many threads.
/// </summary>
public sealed class LatencyHistogram
{
    private readonly long[] _counts = new long[LatencyBuckets.Count];
    private long _sumTicks;

    public void Record(TimeSpan duration)
    {
        Interlocked.Increment(ref _counts[LatencyBuckets.IndexOf(duration)]);
        Interlocked.Add(ref _sumTicks, duration.Ticks);
    }

    /// <summary>Adds another histogram's counts into this one (for totals over apps; not on the request path).</summary>
    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
            Interlocked.Add(ref _counts[i], Volatile.Read(ref other._counts[i]));
        Interlocked.Add(ref _sumTicks, Volatile.Read(ref other._sumTicks));
    }

    /// <summary>Requests counted so far.</summary>
    public long Total
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _counts.Length; i++)
                total += Volatile.Read(ref _counts[i]);
            return total;
        }
    }

    public TimeSpan Sum => TimeSpan.FromTicks(Volatile.Read(ref _sumTicks));

    /// <summary>The counts per bucket (not cumulative), copied.</summary>
    public long[] Snapshot()
    {
        var copy = new long[_counts.Length];
        for (var i = 0; i < copy.Length; i++)
            copy[i] = Volatile.Read(ref _counts[i]);
        return copy;
    }
}
