namespace Paas.Core.Routing;

/// <summary>
/// Liveness of routes by cell heartbeat. Whoever runs a cell (today the controller, for the local Docker
/// cell) keeps <see cref="RouteKeys.CellAlive"/> set with <c>SET key &lt;anything&gt; PX ttl</c>, refreshed every
/// <see cref="RefreshInterval"/>, and writes <c>"cell"</c> into each <see cref="RouteEntry"/> it routes
/// (setting the key before the first route). Routers check the keys of every cell their routes name;
/// when a key has expired its routes stop receiving traffic, even if nobody ever deletes them, within
/// <see cref="Ttl"/> plus the router's check interval. Redis does the timing, so clocks never need to agree.
/// </summary>
public static class CellHeartbeat
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(20);

    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);
}
