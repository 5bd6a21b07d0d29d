using Paas.Core.Metrics;

namespace Paas.Controller.Metrics;

/// <summary>
/// Turns routers' cumulative counts into what each router answered since the previous read. The first read
/// of a router that was already counting is a baseline (its past is not this interval's traffic); a router
/// that restarted (a new start time) or an app first seen after the baseline counts in full.
/// </summary>
public sealed class TrafficDeltas
{
    private readonly Dictionary<(string Router, string App), AppTraffic> _previous = [];
    private readonly HashSet<string> _knownRouters = new(StringComparer.Ordinal);

    /// <summary>The traffic since the last read, or null when this read is only a baseline.</summary>
    public AppTraffic? Next(string router, string app, AppTraffic current)
    {
        var routerKnown = _knownRouters.Contains(router);
        _previous.TryGetValue((router, app), out var previous);
        _previous[(router, app)] = current;
        if (previous is null || previous.RouterStarted != current.RouterStarted)
            return routerKnown || previous is not null ? current : null;
        var byStatus = new Dictionary<int, long>();
        foreach (var (status, count) in current.ByStatus)
        {
            var delta = count - previous.ByStatus.GetValueOrDefault(status);
            if (delta > 0)
                byStatus[status] = delta;
        }
        var buckets = new long[current.Buckets.Length];
        for (var i = 0; i < buckets.Length; i++)
            buckets[i] = Math.Max(0, current.Buckets[i] - (i < previous.Buckets.Length ? previous.Buckets[i] : 0));
        return new AppTraffic(current.RouterStarted, byStatus, buckets);
    }

    /// <summary>Called after each full read of a router, so apps it reports later count in full.</summary>
    public void Seen(string router) => _knownRouters.Add(router);
}
