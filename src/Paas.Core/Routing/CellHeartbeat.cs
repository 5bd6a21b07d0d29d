namespace Paas.Core.Routing;

/// <summary>
/// Cell liveness, one definition for every component: a cell is live while its key
/// <see cref="RouteKeys.CellAlive"/> exists. The cell agent sets it at every heartbeat with
/// <c>SET key 1 PX lost-after</c> (PAAS_CELL_LOST_SECONDS), so Redis does the timing and no two hosts'
/// clocks are ever compared. The controller reads the keys to decide that a cell is lost and its instances
/// must be placed elsewhere; routers read the same keys to stop sending traffic to a lost cell's routes
/// (after checking that its instances do not answer: an agent can die while its instances serve on).
/// </summary>
public static class CellHeartbeat
{
    /// <summary>How long a silent cell counts as live: the default of PAAS_CELL_LOST_SECONDS.</summary>
    public static readonly TimeSpan DefaultLostAfter = TimeSpan.FromSeconds(5);
}
