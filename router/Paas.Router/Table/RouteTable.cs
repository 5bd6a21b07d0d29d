using System.Runtime.CompilerServices;

namespace Paas.Router.Table;

/// <summary>
/// An immutable snapshot of the routing registry. Request threads read whichever snapshot is current
/// without locking and without allocating: hosts are matched as spans against case-insensitive maps.
/// A change produces a new snapshot (<see cref="RouteTableBuilder"/>) that copies only the
/// shards of the maps the change touches (<see cref="ShardedMap{TValue}"/>) and carries every endpoint's
/// runtime state over.
/// </summary>
public sealed class RouteTable
{
    internal static readonly StringComparer HostComparer = StringComparer.OrdinalIgnoreCase;

    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _wildcard;
    private HashSet<string>? _cells;

    internal RouteTable(
        long version,
        ShardedMap<string> hosts,
        Dictionary<string, string> wildcards,
        ShardedMap<Destination> instances,
        Dictionary<string, AppRouteConfig> options,
        HashSet<string> deadCells,
        ShardedMap<AppPool> pools,
        ShardedMap<AppPool> hostPools,
        ShardedMap<string[]> appHosts)
    {
        Version = version;
        HostMap = hosts;
        WildcardMap = wildcards;
        InstanceMap = instances;
        OptionMap = options;
        DeadCellSet = deadCells;
        PoolMap = pools;
        HostPoolMap = hostPools;
        AppHostMap = appHosts;
        _wildcard = wildcards.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public static RouteTable Empty { get; } = new(0,
        ShardedMap<string>.Empty(ignoreCase: true), new(HostComparer), ShardedMap<Destination>.Empty(ignoreCase: false),
        new(StringComparer.Ordinal), new(StringComparer.Ordinal), ShardedMap<AppPool>.Empty(ignoreCase: false),
        ShardedMap<AppPool>.Empty(ignoreCase: true), ShardedMap<string[]>.Empty(ignoreCase: false));

    /// <summary>Grows by one with every snapshot this process publishes; local to this router.</summary>
    public long Version { get; }

    /// <summary>Normalised hostname (or <c>*.domain</c>) to app name.</summary>
    public IReadOnlyDictionary<string, string> Hosts => HostMap;

    /// <summary>Instance id to endpoint, including endpoints on cells whose heartbeat lapsed.</summary>
    public IReadOnlyDictionary<string, Destination> Instances => InstanceMap;

    /// <summary>Apps with options set; others use <see cref="AppRouteConfig.Default"/>.</summary>
    public IReadOnlyDictionary<string, AppRouteConfig> Options => OptionMap;

    /// <summary>Cells whose heartbeat key has expired: their endpoints get no traffic.</summary>
    public IReadOnlySet<string> DeadCells => DeadCellSet;

    /// <summary>Every cell named by a route, for the heartbeat check. Computed once per snapshot, off the request path.</summary>
    public IReadOnlySet<string> Cells => LazyInitializer.EnsureInitialized(ref _cells, () =>
        InstanceMap.Values.Select(e => e.Config.Cell).OfType<string>().ToHashSet(StringComparer.Ordinal));

    internal ShardedMap<string> HostMap { get; }

    /// <summary>Wildcard suffix ("example.com" for "*.example.com") to app.</summary>
    internal Dictionary<string, string> WildcardMap { get; }

    internal ShardedMap<Destination> InstanceMap { get; }

    internal Dictionary<string, AppRouteConfig> OptionMap { get; }

    internal HashSet<string> DeadCellSet { get; }

    internal ShardedMap<AppPool> PoolMap { get; }

    /// <summary>
    /// Host straight to its app's pool, for every host in <see cref="HostMap"/> whose app has one: the
    /// request path's one probe. With 100,000 apps each further probe (the app's name, its bucket, its
    /// entry) is a cache miss per request.
    /// </summary>
    internal ShardedMap<AppPool> HostPoolMap { get; }

    /// <summary>App to the hosts naming it, so a rebuilt pool patches only its own hosts in <see cref="HostPoolMap"/>.</summary>
    internal ShardedMap<string[]> AppHostMap { get; }

    public static RouteTable Build(
        long version,
        IEnumerable<KeyValuePair<string, string>> hosts,
        IEnumerable<InstanceEndpoint> endpoints,
        IEnumerable<KeyValuePair<string, AppRouteConfig>>? options = null,
        IEnumerable<string>? deadCells = null,
        RouteTable? previous = null)
    {
        var builder = new RouteTableBuilder(previous ?? Empty, fresh: true);
        foreach (var (host, app) in hosts)
        {
            builder.SetHost(host, app);
        }

        foreach (var endpoint in endpoints)
        {
            builder.SetEndpoint(endpoint);
        }

        foreach (var (app, config) in options ?? [])
        {
            builder.SetOptions(app, config);
        }

        builder.SetDeadCells(deadCells ?? previous?.DeadCellSet ?? []);
        return builder.Build(version, force: true);
    }

    /// <summary>Endpoints of an app that may take traffic, ordered by instance id.</summary>
    public IReadOnlyList<Destination> EndpointsFor(string app) =>
        PoolMap.TryGetValue(app, out var pool) ? pool.Routable : [];

    public AppPool? PoolFor(string app) => PoolMap.GetValueOrDefault(app);

    public RouteLookup Lookup(string? hostHeader) => Lookup(hostHeader.AsSpan());

    /// <summary>
    /// Exact host first, then a wildcard one label up (<c>*.example.com</c> matches <c>a.example.com</c>,
    /// not <c>a.b.example.com</c> nor <c>example.com</c>: as in TLS certificates, a wildcard covers one label,
    /// so a wildcard can never reach into names below another app's domain). Case-insensitive; a port and
    /// a trailing dot are ignored. Allocates nothing.
    /// </summary>
    public RouteLookup Lookup(ReadOnlySpan<char> hostHeader)
    {
        var host = HostName.Strip(hostHeader);
        if (host.IsEmpty)
        {
            return RouteLookup.UnknownHost;
        }

        if (HostPoolMap.TryGetValue(host, out var found))
        {
            return found.IsRoutable ? RouteLookup.Found(found) : RouteLookup.NoEndpoints(found.App);
        }

        if (!HostMap.TryGetValue(host, out var app) && !TryWildcard(host, out app))
        {
            return RouteLookup.UnknownHost;
        }

        return PoolMap.TryGetValue(app, out var pool) && pool.IsRoutable
            ? RouteLookup.Found(pool)
            : RouteLookup.NoEndpoints(app);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryWildcard(ReadOnlySpan<char> host, out string app)
    {
        app = null!;
        if (WildcardMap.Count == 0)
        {
            return false;
        }

        var dot = host.IndexOf('.');
        return dot >= 0 && dot + 1 < host.Length && _wildcard.TryGetValue(host[(dot + 1)..], out app!);
    }

    /// <summary>
    /// Applies one change message. Returns false when the message cannot be understood (the caller
    /// should resync); a change that alters nothing returns this same snapshot so no version is burnt.
    /// </summary>
    public bool TryApply(TableChange change, out RouteTable next)
    {
        var builder = new RouteTableBuilder(this);
        var ok = builder.TryApply(change);
        next = ok ? builder.Build(Version + 1) : this;
        return ok;
    }
}
