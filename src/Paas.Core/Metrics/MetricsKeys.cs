namespace Paas.Core.Metrics;

/// <summary>
/// Redis names through which routers and cells hand their per-app samples to the controller, under the
/// platform's prefix. Routers are listed in RouteKeys.Routers and cells in CellKeys.Cells, so the
/// controller reads known keys rather than scanning. Each publisher owns one hash, rewritten every interval with an expiry, so a router
/// or cell that stops leaves no stale numbers behind.
/// </summary>
public sealed record MetricsKeys(string Prefix)
{
    /// <summary>Hash: app → <see cref="AppTraffic"/> JSON (counts since the router started).</summary>
    public string RouterTraffic(string routerId) => Prefix + "metrics:router:" + routerId;

    /// <summary>Hash: instance id → <see cref="InstanceUsage"/> JSON (the cell's last sample).</summary>
    public string CellUsage(string cell) => Prefix + "metrics:cell:" + cell;
}
