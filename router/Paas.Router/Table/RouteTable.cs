using System.Collections.Immutable;

namespace Paas.Router.Table;

/// <summary>
/// An immutable snapshot of the routing registry. Request threads read whichever snapshot is current
/// without locking; a change produces a new snapshot that shares most structure with the old one.
/// </summary>
public sealed class RouteTable
{
    private static readonly ImmutableDictionary<string, string> NoHosts =
        ImmutableDictionary.Create<string, string>(StringComparer.Ordinal);

    private static readonly ImmutableDictionary<string, InstanceEndpoint> NoInstances =
        ImmutableDictionary.Create<string, InstanceEndpoint>(StringComparer.Ordinal);

    private static readonly ImmutableDictionary<string, ImmutableArray<InstanceEndpoint>> NoApps =
        ImmutableDictionary.Create<string, ImmutableArray<InstanceEndpoint>>(StringComparer.Ordinal);

    private readonly ImmutableDictionary<string, ImmutableArray<InstanceEndpoint>> _endpointsByApp;

    private RouteTable(
        long version,
        ImmutableDictionary<string, string> hosts,
        ImmutableDictionary<string, InstanceEndpoint> instances,
        ImmutableDictionary<string, ImmutableArray<InstanceEndpoint>> endpointsByApp)
    {
        Version = version;
        Hosts = hosts;
        Instances = instances;
        _endpointsByApp = endpointsByApp;
    }

    public static RouteTable Empty { get; } = new(0, NoHosts, NoInstances, NoApps);

    /// <summary>Grows by one with every snapshot this process publishes; local to this router.</summary>
    public long Version { get; }

    /// <summary>Normalised hostname to app name.</summary>
    public ImmutableDictionary<string, string> Hosts { get; }

    /// <summary>Instance id to endpoint.</summary>
    public ImmutableDictionary<string, InstanceEndpoint> Instances { get; }

    public static RouteTable Build(long version, IEnumerable<KeyValuePair<string, string>> hosts, IEnumerable<InstanceEndpoint> endpoints)
    {
        var hostBuilder = NoHosts.ToBuilder();
        foreach (var (host, app) in hosts)
        {
            var key = HostName.Normalize(host);
            if (key.Length > 0 && !string.IsNullOrWhiteSpace(app))
            {
                hostBuilder[key] = app.Trim();
            }
        }

        var instanceBuilder = NoInstances.ToBuilder();
        foreach (var endpoint in endpoints)
        {
            instanceBuilder[endpoint.Instance] = endpoint;
        }

        var byApp = NoApps.ToBuilder();
        foreach (var group in instanceBuilder.Values.GroupBy(e => e.App, StringComparer.Ordinal))
        {
            byApp[group.Key] = [.. group.OrderBy(e => e.Instance, StringComparer.Ordinal)];
        }

        return new RouteTable(version, hostBuilder.ToImmutable(), instanceBuilder.ToImmutable(), byApp.ToImmutable());
    }

    /// <summary>Endpoints of an app, ordered by instance id so round-robin order is stable across snapshots.</summary>
    public ImmutableArray<InstanceEndpoint> EndpointsFor(string app) =>
        _endpointsByApp.TryGetValue(app, out var endpoints) ? endpoints : [];

    /// <param name="host">Already normalised with <see cref="HostName.Normalize"/>.</param>
    public RouteLookup Lookup(string host)
    {
        if (!Hosts.TryGetValue(host, out var app))
        {
            return RouteLookup.UnknownHost;
        }

        var endpoints = EndpointsFor(app);
        return endpoints.IsEmpty ? RouteLookup.NoEndpoints(app) : RouteLookup.Found(app, endpoints);
    }

    /// <summary>
    /// Applies one change message. Returns false when the message cannot be understood (the caller
    /// should resync); a change that alters nothing returns this same snapshot so no version is burnt.
    /// </summary>
    public bool TryApply(RouteChange change, out RouteTable next)
    {
        next = this;
        switch (change.Kind)
        {
            case RouteChangeKind.HostSet:
            {
                var host = HostName.Normalize(change.Key);
                var app = change.Value?.Trim();
                if (host.Length == 0 || string.IsNullOrEmpty(app))
                {
                    return false;
                }

                if (!Hosts.TryGetValue(host, out var existing) || existing != app)
                {
                    next = new RouteTable(Version + 1, Hosts.SetItem(host, app), Instances, _endpointsByApp);
                }

                return true;
            }

            case RouteChangeKind.HostDel:
            {
                var host = HostName.Normalize(change.Key);
                if (Hosts.ContainsKey(host))
                {
                    next = new RouteTable(Version + 1, Hosts.Remove(host), Instances, _endpointsByApp);
                }

                return true;
            }

            case RouteChangeKind.RouteSet:
            {
                if (!InstanceEndpoint.TryParse(change.Key, change.Value, out var endpoint))
                {
                    return false;
                }

                if (Instances.TryGetValue(endpoint.Instance, out var existing) && existing == endpoint)
                {
                    return true;
                }

                var byApp = existing is null ? _endpointsByApp : Without(_endpointsByApp, existing);
                byApp = With(byApp, endpoint);
                next = new RouteTable(Version + 1, Hosts, Instances.SetItem(endpoint.Instance, endpoint), byApp);
                return true;
            }

            case RouteChangeKind.RouteDel:
            {
                if (Instances.TryGetValue(change.Key, out var existing))
                {
                    next = new RouteTable(Version + 1, Hosts, Instances.Remove(change.Key), Without(_endpointsByApp, existing));
                }

                return true;
            }

            default:
                return false;
        }
    }

    private static ImmutableDictionary<string, ImmutableArray<InstanceEndpoint>> With(
        ImmutableDictionary<string, ImmutableArray<InstanceEndpoint>> byApp, InstanceEndpoint endpoint)
    {
        var list = byApp.TryGetValue(endpoint.App, out var current) ? current : [];
        var index = IndexOf(list, endpoint.Instance);
        list = index >= 0 ? list.SetItem(index, endpoint) : list.Insert(~index, endpoint);
        return byApp.SetItem(endpoint.App, list);
    }

    private static ImmutableDictionary<string, ImmutableArray<InstanceEndpoint>> Without(
        ImmutableDictionary<string, ImmutableArray<InstanceEndpoint>> byApp, InstanceEndpoint endpoint)
    {
        if (!byApp.TryGetValue(endpoint.App, out var list))
        {
            return byApp;
        }

        var index = IndexOf(list, endpoint.Instance);
        if (index < 0)
        {
            return byApp;
        }

        list = list.RemoveAt(index);
        return list.IsEmpty ? byApp.Remove(endpoint.App) : byApp.SetItem(endpoint.App, list);
    }

    // Binary search by instance id; a negative result is the complement of the insertion point.
    private static int IndexOf(ImmutableArray<InstanceEndpoint> list, string instance)
    {
        int lo = 0, hi = list.Length - 1;
        while (lo <= hi)
        {
            var mid = lo + ((hi - lo) >> 1);
            var cmp = string.CompareOrdinal(list[mid].Instance, instance);
            if (cmp == 0)
            {
                return mid;
            }

            if (cmp < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return ~lo;
    }
}
