using System.Collections.Concurrent;
using Paas.Core.Metrics;

namespace Paas.Controller.Metrics;

/// <summary>
/// A short rolling history of each app's traffic and resource use, kept in memory: the last hour at 10 s
/// resolution and the last day at 1 min. In memory on purpose: it is a view of recent health, not a record;
/// a restarted controller starts empty and refills within one interval (every controller keeps its own, fed
/// from Redis by <see cref="MetricsCollector"/>). Each resolution is a fixed ring of slots, so memory per app
/// is bounded and old slots fall out by being overwritten — nothing needs sweeping.
/// </summary>
public sealed class MetricsHistory(TimeProvider time)
{
    public static readonly TimeSpan FineStep = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan FineSpan = TimeSpan.FromHours(1);
    public static readonly TimeSpan CoarseStep = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan CoarseSpan = TimeSpan.FromHours(24);

    private readonly ConcurrentDictionary<string, AppSeries> _apps = new(StringComparer.Ordinal);

    public TimeProvider Time => time;

    /// <summary>Requests answered since the last call (not cumulative): counts by status code and by latency bucket.</summary>
    public void AddTraffic(string app, IReadOnlyDictionary<int, long> byStatus, ReadOnlySpan<long> buckets)
    {
        var series = _apps.GetOrAdd(app, static _ => new AppSeries());
        var now = time.GetUtcNow();
        lock (series)
        {
            series.Fine.At(now).AddTraffic(byStatus, buckets);
            series.Coarse.At(now).AddTraffic(byStatus, buckets);
        }
    }

    /// <summary>The latest resource sample of one process type (sums over its instances); replaces earlier ones in the same slot.</summary>
    public void SetUsage(string app, string process, ProcessUsage usage)
    {
        var series = _apps.GetOrAdd(app, static _ => new AppSeries());
        var now = time.GetUtcNow();
        lock (series)
        {
            series.Fine.At(now).Usage[process] = usage;
            series.Coarse.At(now).Usage[process] = usage;
        }
    }

    /// <summary>
    /// The app's points from <paramref name="since"/> to now, oldest first: at 10 s resolution when that
    /// reaches back at most an hour, else at 1 min. Slots with nothing recorded are left out.
    /// </summary>
    public MetricsWindow Query(string app, DateTimeOffset since)
    {
        var now = time.GetUtcNow();
        var fine = now - since <= FineSpan;
        var step = fine ? FineStep : CoarseStep;
        if (!_apps.TryGetValue(app, out var series))
            return new MetricsWindow(step, []);
        lock (series)
        {
            return new MetricsWindow(step, (fine ? series.Fine : series.Coarse).Between(since, now));
        }
    }

    /// <summary>Drops an app's history (the app was deleted).</summary>
    public void Forget(string app) => _apps.TryRemove(app, out _);

    private sealed class AppSeries
    {
        public SlotRing Fine { get; } = new(FineStep, FineSpan);

        public SlotRing Coarse { get; } = new(CoarseStep, CoarseSpan);
    }

    /// <summary>Slots of one resolution; slot n covers [n·step, (n+1)·step) since the Unix epoch.</summary>
    private sealed class SlotRing(TimeSpan step, TimeSpan span)
    {
        private readonly MetricsSlot?[] _slots = new MetricsSlot?[(int)(span / step)];

        private long Number(DateTimeOffset at) => at.UtcTicks / step.Ticks;

        public MetricsSlot At(DateTimeOffset now)
        {
            var number = Number(now);
            var index = (int)(number % _slots.Length);
            var slot = _slots[index];
            if (slot is null || slot.Number != number)
                // A slot a whole span old is reused: that is the retention.
                _slots[index] = slot = new MetricsSlot(number, new DateTimeOffset(number * step.Ticks, TimeSpan.Zero));
            return slot;
        }

        public List<MetricsSlot> Between(DateTimeOffset since, DateTimeOffset now)
        {
            var last = Number(now);
            var first = Math.Max(Number(since), last - _slots.Length + 1);
            var points = new List<MetricsSlot>();
            for (var number = first; number <= last; number++)
            {
                if (_slots[(int)(number % _slots.Length)] is { } slot && slot.Number == number)
                    points.Add(slot.Copy());
            }
            return points;
        }
    }
}

/// <summary>One process type's resource use at a moment: sums over its running instances.</summary>
public sealed record ProcessUsage(int Instances, double CpuPercent, long MemoryBytes);

/// <summary>What <see cref="MetricsHistory.Query"/> found: its resolution and its points.</summary>
public sealed record MetricsWindow(TimeSpan Step, IReadOnlyList<MetricsSlot> Points);

/// <summary>What one interval of one app saw: requests by status code, durations by latency bucket, resource use.</summary>
public sealed class MetricsSlot(long number, DateTimeOffset start)
{
    public long Number { get; } = number;

    public DateTimeOffset Start { get; } = start;

    public Dictionary<int, long> ByStatus { get; private init; } = [];

    public long[] Buckets { get; private init; } = new long[LatencyBuckets.Count];

    public Dictionary<string, ProcessUsage> Usage { get; private init; } = new(StringComparer.Ordinal);

    public long Requests => ByStatus.Values.Sum();

    public void AddTraffic(IReadOnlyDictionary<int, long> byStatus, ReadOnlySpan<long> buckets)
    {
        foreach (var (status, count) in byStatus)
            ByStatus[status] = ByStatus.GetValueOrDefault(status) + count;
        for (var i = 0; i < buckets.Length && i < Buckets.Length; i++)
            Buckets[i] += buckets[i];
    }

    public MetricsSlot Copy() => new(Number, Start)
    {
        ByStatus = new Dictionary<int, long>(ByStatus),
        Buckets = (long[])Buckets.Clone(),
        Usage = new Dictionary<string, ProcessUsage>(Usage, StringComparer.Ordinal),
    };
}
