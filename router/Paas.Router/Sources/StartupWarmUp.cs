using Paas.Core.Routing;
using Paas.Router.Table;

namespace Paas.Router.Sources;

/// <summary>What the route source does once, after its first full load, so the first changes and collections after a start cost nothing extra.</summary>
internal static class StartupWarmUp
{
    public static void Run(RouteTable table)
    {
        WarmUpChangePath(table);

        // The first table is most of what this process will ever keep. Left young, it is copied by the first gen1
        // collection, whenever that comes, with every loop paused (265 ms for 100,000 routes, measured); moved to
        // gen2 now, it is copied once, while the router is just starting.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <summary>
    /// Runs one change of every kind through the path messages take, on a builder whose table is thrown away. A
    /// full load never runs that path, so without this the first changes after a start waited for the JIT (68 ms for
    /// the first host at 100,000 routes, measured; the propagation goal is 100 ms).
    /// </summary>
    private static void WarmUpChangePath(RouteTable table)
    {
        // ".invalid" is reserved (RFC 2606): no real host or app can be touched, and nothing is published anyway.
        const string Host = "paas-warm-up.invalid", App = "paas-warm-up", Instance = "paas-warm-up-web-1";
        var registration = RoutingJson.Write(new RouteEntry(Instance, App, "web", 1, "127.0.0.1:9"));
        var options = RoutingJson.Write(new AppRouteOptions(TimeoutSeconds: 5));
        foreach (var (kind, key, value) in new[]
        {
            (RouteChange.RouteSet, Instance, registration),
            (RouteChange.HostSet, Host, App),
            (RouteChange.AppOptionsSet, App, options),
            (RouteChange.HostDel, Host, null),
            (RouteChange.AppOptionsDel, App, null),
            (RouteChange.RouteDel, Instance, null),
        })
        {
            var message = RoutingJson.Write(new RouteChange(kind, key, value));
            if (TableChange.TryParse(message, out var change))
            {
                var builder = new RouteTableBuilder(table);
                builder.TryApply(change);
                table = builder.Build(table.Version + 1);
                table.Lookup(Host);
            }
        }
    }
}
