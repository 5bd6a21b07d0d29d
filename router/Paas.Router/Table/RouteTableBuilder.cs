namespace Paas.Router.Table;

/// <summary>
/// Turns a snapshot plus a batch of changes into the next snapshot. A map's shard is copied on its first
/// write only, and only the pools of apps a change touched are rebuilt, so a burst of changes costs one
/// copy of the shards it touched rather than one per message.
/// </summary>
public sealed class RouteTableBuilder
{
    private readonly RouteTable _base;
    private readonly ShardedMap<string>.Builder _hosts;
    private readonly ShardedMap<string[]>.Builder _appHosts;
    private readonly ShardedMap<Destination>.Builder _instances;
    private Dictionary<string, string> _wildcards;
    private Dictionary<string, AppRouteConfig> _options;
    private HashSet<string> _deadCells;
    private bool _wildcardsCopied, _optionsCopied;
    private bool _changed;
    private readonly HashSet<string> _dirtyApps = new(StringComparer.Ordinal);
    private readonly HashSet<string> _touchedInstances = new(StringComparer.Ordinal);
    private readonly HashSet<string> _touchedHosts = new(StringComparer.Ordinal);
    private readonly bool _fresh;

    /// <param name="fresh">Start from empty contents but carry runtime state (counters, cool-downs) over from <paramref name="table"/>.</param>
    public RouteTableBuilder(RouteTable table, bool fresh = false)
    {
        _base = table;
        _fresh = fresh;
        if (fresh)
        {
            _hosts = RouteTable.Empty.HostMap.ToBuilder();
            _appHosts = RouteTable.Empty.AppHostMap.ToBuilder();
            _instances = RouteTable.Empty.InstanceMap.ToBuilder();
            _wildcards = new(RouteTable.HostComparer);
            _options = new(StringComparer.Ordinal);
            _wildcardsCopied = _optionsCopied = true;
        }
        else
        {
            _hosts = table.HostMap.ToBuilder();
            _appHosts = table.AppHostMap.ToBuilder();
            _instances = table.InstanceMap.ToBuilder();
            _wildcards = table.WildcardMap;
            _options = table.OptionMap;
        }

        _deadCells = table.DeadCellSet;
    }

    public bool HasChanges => _changed;

    public bool TryApply(TableChange change)
    {
        switch (change.Kind)
        {
            case RouteChangeKind.HostSet:
                return SetHost(change.Key, change.Value);
            case RouteChangeKind.HostDel:
                return RemoveHost(change.Key);
            case RouteChangeKind.RouteSet:
                if (!InstanceEndpoint.TryParse(change.Key, change.Value, out var endpoint))
                {
                    return false;
                }

                SetEndpoint(endpoint);
                return true;
            case RouteChangeKind.RouteDel:
                RemoveEndpoint(change.Key);
                return true;
            case RouteChangeKind.AppOptionsSet:
                if (string.IsNullOrWhiteSpace(change.Key) || !AppRouteConfig.TryParse(change.Value, out var config))
                {
                    return false;
                }

                SetOptions(change.Key, config);
                return true;
            case RouteChangeKind.AppOptionsDel:
                RemoveOptions(change.Key);
                return true;
            case RouteChangeKind.EndpointDown:
                // A health hint, handled by the route source; the table itself does not change.
                return true;
            default:
                return false;
        }
    }

    public bool SetHost(string host, string? app)
    {
        var key = HostName.Normalize(host);
        // Interned like endpoints' app names (InstanceEndpoint.TryParse); app names are few and long-lived.
        app = app?.Trim() is { Length: > 0 } trimmed ? string.Intern(trimmed) : null;
        if (key.Length == 0 || string.IsNullOrEmpty(app))
        {
            return false;
        }

        var wildcard = WildcardSuffix(key);
        if (wildcard is { Length: 0 })
        {
            return false;
        }

        if (_hosts.TryGetValue(key, out var existing) && existing == app)
        {
            return true;
        }

        if (existing is not null)
        {
            Unlink(existing, key);
        }

        Link(app, key);
        _hosts.Set(key, app);
        _touchedHosts.Add(key);
        if (wildcard is not null)
        {
            CopyWildcards();
            _wildcards[wildcard] = app;
        }

        _changed = true;
        return true;
    }

    public bool RemoveHost(string host)
    {
        var key = HostName.Normalize(host);
        if (!_hosts.TryGetValue(key, out var existing))
        {
            return true;
        }

        _hosts.Remove(key);
        Unlink(existing, key);
        _touchedHosts.Add(key);
        if (WildcardSuffix(key) is { Length: > 0 } wildcard)
        {
            CopyWildcards();
            _wildcards.Remove(wildcard);
        }

        _changed = true;
        return true;
    }

    public void SetEndpoint(InstanceEndpoint config)
    {
        if (_instances.TryGetValue(config.Instance, out var existing) && existing.Config == config)
        {
            return;
        }

        // The state lives as long as the instance id: a re-registration keeps its in-flight count and cool-down.
        var state = existing?.State ?? _base.InstanceMap.GetValueOrDefault(config.Instance)?.State ?? new EndpointState();
        _instances.Set(config.Instance, new Destination(config, state));
        _touchedInstances.Add(config.Instance);
        if (existing is not null)
        {
            _dirtyApps.Add(existing.App);
        }

        _dirtyApps.Add(config.App);
        _changed = true;
    }

    public void RemoveEndpoint(string instance)
    {
        if (!_instances.TryGetValue(instance, out var existing))
        {
            return;
        }

        _instances.Remove(instance);
        _dirtyApps.Add(existing.App);
        _changed = true;
    }

    public void SetOptions(string app, AppRouteConfig config)
    {
        app = app.Trim();
        if (_options.TryGetValue(app, out var existing) && existing == config)
        {
            return;
        }

        CopyOptions();
        _options[app] = config;
        _dirtyApps.Add(app);
        _changed = true;
    }

    public void RemoveOptions(string app)
    {
        app = app.Trim();
        if (!_options.ContainsKey(app))
        {
            return;
        }

        CopyOptions();
        _options.Remove(app);
        _dirtyApps.Add(app);
        _changed = true;
    }

    /// <summary>Replaces the set of cells whose heartbeat lapsed; their endpoints leave (or rejoin) the pools.</summary>
    public void SetDeadCells(IEnumerable<string> cells)
    {
        var next = new HashSet<string>(cells, StringComparer.Ordinal);
        if (next.SetEquals(_deadCells))
        {
            return;
        }

        var flipped = new HashSet<string>(next, StringComparer.Ordinal);
        flipped.SymmetricExceptWith(_deadCells);
        foreach (var endpoint in _instances.Values)
        {
            if (endpoint.Config.Cell is { } cell && flipped.Contains(cell))
            {
                _dirtyApps.Add(endpoint.App);
            }
        }

        _deadCells = next;
        _changed = true;
    }

    /// <summary>The next snapshot, or the base snapshot itself when nothing changed (and not <paramref name="force"/>).</summary>
    public RouteTable Build(long version, bool force = false)
    {
        if (!_changed && !force)
        {
            return _base;
        }

        ShardedMap<AppPool> pools;
        if (_fresh)
        {
            var fresh = RouteTable.Empty.PoolMap.ToBuilder();
            foreach (var group in _instances.Values.GroupBy(e => e.App, StringComparer.Ordinal))
            {
                fresh.Set(group.Key, MakePool(group.Key, [.. group]));
            }

            pools = fresh.ToMap();
        }
        else if (_dirtyApps.Count == 0)
        {
            pools = _base.PoolMap;
        }
        else
        {
            var changed = _base.PoolMap.ToBuilder();
            foreach (var app in _dirtyApps)
            {
                var members = new List<Destination>();
                if (_base.PoolMap.TryGetValue(app, out var old))
                {
                    foreach (var endpoint in old.All)
                    {
                        if (!_touchedInstances.Contains(endpoint.Instance) && _instances.TryGetValue(endpoint.Instance, out var current) && current.App == app)
                        {
                            members.Add(current);
                        }
                    }
                }

                foreach (var instance in _touchedInstances)
                {
                    if (_instances.TryGetValue(instance, out var current) && current.App == app)
                    {
                        members.Add(current);
                    }
                }

                if (members.Count == 0)
                {
                    changed.Remove(app);
                }
                else
                {
                    changed.Set(app, MakePool(app, members));
                }
            }

            pools = changed.ToMap();
        }

        var hosts = _hosts.ToMap();
        var (hostPools, appHosts) = IndexHosts(hosts, pools);
        return new RouteTable(version, hosts, _wildcards, _instances.ToMap(), _options, _deadCells, pools, hostPools, appHosts);
    }

    /// <summary>
    /// The host → pool index for <paramref name="pools"/>. A change patches only the hosts it touched and
    /// the hosts of apps whose pool was rebuilt (found through the app → hosts map), never the whole table.
    /// </summary>
    private (ShardedMap<AppPool> HostPools, ShardedMap<string[]> AppHosts) IndexHosts(ShardedMap<string> hosts, ShardedMap<AppPool> pools)
    {
        if (_fresh)
        {
            var appHosts = RouteTable.Empty.AppHostMap.ToBuilder();
            foreach (var group in hosts.GroupBy(h => h.Value, StringComparer.Ordinal))
            {
                appHosts.Set(group.Key, [.. group.Select(h => h.Key)]);
            }

            var all = RouteTable.Empty.HostPoolMap.ToBuilder();
            foreach (var (host, app) in hosts)
            {
                if (pools.TryGetValue(app, out var pool))
                {
                    all.Set(host, pool);
                }
            }

            return (all.ToMap(), appHosts.ToMap());
        }

        if (_touchedHosts.Count == 0 && ReferenceEquals(pools, _base.PoolMap))
        {
            return (_base.HostPoolMap, _appHosts.ToMap());
        }

        var hostPools = _base.HostPoolMap.ToBuilder();
        foreach (var host in _touchedHosts)
        {
            Reindex(hostPools, hosts, pools, host);
        }

        foreach (var app in _dirtyApps)
        {
            foreach (var host in _appHosts.GetValueOrDefault(app) ?? [])
            {
                Reindex(hostPools, hosts, pools, host);
            }
        }

        return (hostPools.ToMap(), _appHosts.ToMap());
    }

    private static void Reindex(ShardedMap<AppPool>.Builder hostPools, ShardedMap<string> hosts, ShardedMap<AppPool> pools, string host)
    {
        if (hosts.TryGetValue(host, out var app) && pools.TryGetValue(app, out var pool))
        {
            hostPools.Set(host, pool);
        }
        else
        {
            hostPools.Remove(host);
        }
    }

    // The app → hosts map is built whole by a fresh build (IndexHosts), so only changes keep it current here.
    private void Link(string app, string host)
    {
        if (!_fresh)
        {
            _appHosts.Set(app, _appHosts.TryGetValue(app, out var hosts) ? [.. hosts, host] : [host]);
        }
    }

    private void Unlink(string app, string host)
    {
        if (_fresh || !_appHosts.TryGetValue(app, out var hosts))
        {
            return;
        }

        var rest = Array.FindAll(hosts, h => !string.Equals(h, host, StringComparison.Ordinal));
        if (rest.Length == 0)
        {
            _appHosts.Remove(app);
        }
        else
        {
            _appHosts.Set(app, rest);
        }
    }

    private AppPool MakePool(string app, List<Destination> members)
    {
        members.Sort(static (a, b) => string.CompareOrdinal(a.Instance, b.Instance));
        var all = members.ToArray();
        var routable = _deadCells.Count == 0 ? all : all.Where(e => e.Config.Cell is null || !_deadCells.Contains(e.Config.Cell)).ToArray();
        var options = _options.GetValueOrDefault(app) ?? AppRouteConfig.Default;
        return new AppPool(app, all, routable, options, _base.PoolMap.GetValueOrDefault(app)?.Counter);
    }

    // "*.example.com" → "example.com"; null for an exact host; empty for a malformed wildcard ("*", "*.", "a*.b").
    private static string? WildcardSuffix(string key)
    {
        if (!key.Contains('*'))
        {
            return null;
        }

        return key.StartsWith("*.", StringComparison.Ordinal) && key.Length > 2 && key.IndexOf('*', 1) < 0 ? key[2..] : string.Empty;
    }

    private void CopyWildcards()
    {
        if (!_wildcardsCopied)
        {
            _wildcards = new(_wildcards, RouteTable.HostComparer);
            _wildcardsCopied = true;
        }
    }

    private void CopyOptions()
    {
        if (!_optionsCopied)
        {
            _options = new(_options, StringComparer.Ordinal);
            _optionsCopied = true;
        }
    }
}
