namespace Paas.Core.Routing;

/// <summary>
/// How a writer knows that every router serves its change. Each router keeps
/// <see cref="RouteKeys.RouterApplied"/> set to the <see cref="RouteKeys.Version"/> its table reflects
/// completely (no change missed), with <see cref="Ttl"/> as its lifetime, refreshed every
/// <see cref="RefreshInterval"/> and at once after each change it applies; its id is in
/// <see cref="RouteKeys.Routers"/>. A router is live while its key exists (Redis does the timing). A write
/// made at version V is served everywhere once every live router acknowledges V or later: any number of
/// routers, on any host, without asking any one of them over HTTP.
/// </summary>
public static class RouterAcknowledgement
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);
}
