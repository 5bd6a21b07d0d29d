using System.Text.Json;
using Paas.Core.Routing;
using StackExchange.Redis;

namespace Paas.Controller.Routing;

/// <summary>
/// Writes the routing table to Redis and announces each write on the change channel, which routers
/// apply to their in-memory tables.
/// </summary>
public sealed class RoutePublisher(IConnectionMultiplexer redis, RouteKeys keys) : IRoutePublisher
{
    private readonly RouteWriter _writer = new(redis, keys);

    /// <summary>
    /// The routes hash indexed by app, so a pass over one app reads its few routes, not every app's (at
    /// 1,000 apps a pass read 3,000 entries per app). The controller is the hash's only writer of routes:
    /// each write updates the index; a full pass reloads it (<see cref="ReloadAsync"/>), which heals what a
    /// write racing a reload, or a Redis that lost its data, left stale.
    /// </summary>
    private volatile Dictionary<string, Dictionary<string, RouteEntry>>? _byApp;
    private readonly Lock _index = new();

    private IDatabase Db => redis.GetDatabase();

    public Task SetHostAsync(string host, string app) => _writer.SetHostAsync(host, app);

    /// <summary>The whole hosts hash (host → app), read once per full pass.</summary>
    public async Task<IReadOnlyDictionary<string, string>> HostsAsync() =>
        (await Db.HashGetAllAsync(keys.Hosts)).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString(), StringComparer.Ordinal);

    public Task RemoveHostAsync(string host) => _writer.RemoveHostAsync(host);

    /// <summary>Publishes the app's routing options; none set removes the entry, so routers use their defaults.</summary>
    /// <returns>The write's version, for <see cref="WaitAppliedAsync"/>.</returns>
    public Task<long> SetAppOptionsAsync(string app, AppRouteOptions options) =>
        options == AppRouteOptions.None ? _writer.RemoveAppOptionsAsync(app) : _writer.SetAppOptionsAsync(app, options);

    /// <summary>The whole app-options hash (app → options JSON), read once per full pass.</summary>
    public async Task<IReadOnlyDictionary<string, string>> AppOptionsAsync() =>
        (await Db.HashGetAllAsync(keys.AppOptions)).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString(), StringComparer.Ordinal);

    /// <returns>The write's version, for <see cref="WaitAppliedAsync"/>.</returns>
    public async Task<long> AddRouteAsync(RouteEntry entry)
    {
        var version = await _writer.SetRouteAsync(entry);
        Indexed(entry);
        return version;
    }

    /// <summary>Several routes in one transaction (see <see cref="RouteWriter.SetRoutesAsync"/>).</summary>
    /// <returns>The version of the last write, for <see cref="WaitAppliedAsync"/>.</returns>
    public async Task<long> AddRoutesAsync(IReadOnlyList<RouteEntry> entries)
    {
        var version = await _writer.SetRoutesAsync(entries);
        foreach (var entry in entries)
            Indexed(entry);
        return version;
    }

    /// <returns>The write's version, for <see cref="WaitAppliedAsync"/>.</returns>
    public async Task<long> RemoveRouteAsync(string instanceId)
    {
        var version = await _writer.RemoveRouteAsync(instanceId);
        lock (_index)
        {
            foreach (var routes in _byApp?.Values ?? Enumerable.Empty<Dictionary<string, RouteEntry>>())
                routes.Remove(instanceId);
        }
        return version;
    }

    public async Task<IReadOnlyList<RouteEntry>> RoutesOfAppAsync(string app)
    {
        if (_byApp is null)
            await ReloadAsync();
        lock (_index)
            return _byApp!.TryGetValue(app, out var routes) ? routes.Values.ToList() : [];
    }

    /// <summary>Reads the whole routes hash once into the per-app index (at start, and once per full pass).</summary>
    public async Task ReloadAsync()
    {
        var all = await Db.HashGetAllAsync(keys.Routes);
        var byApp = new Dictionary<string, Dictionary<string, RouteEntry>>(StringComparer.Ordinal);
        foreach (var route in all.Select(e => TryParse(e.Value)).OfType<RouteEntry>())
        {
            if (!byApp.TryGetValue(route.App, out var routes))
                byApp[route.App] = routes = new Dictionary<string, RouteEntry>(StringComparer.Ordinal);
            routes[route.Instance] = route;
        }
        lock (_index)
            _byApp = byApp;
    }

    private void Indexed(RouteEntry entry)
    {
        lock (_index)
        {
            if (_byApp is null)
                return; // loaded, with this write, at the first read
            if (!_byApp.TryGetValue(entry.App, out var routes))
                _byApp[entry.App] = routes = new Dictionary<string, RouteEntry>(StringComparer.Ordinal);
            routes[entry.Instance] = entry;
        }
    }

    private static RouteEntry? TryParse(RedisValue value) => RoutingJson.TryReadEntry(value.ToString(), out var entry) ? entry : null;

    /// <summary>
    /// Waits until every live router serves the table at <paramref name="version"/> or later (see
    /// <see cref="RouterAcknowledgement"/>), so a deploy reports success only once traffic can reach the new
    /// instance, and an old one stops only once no router sends it traffic. False when the timeout passes
    /// first, or no router is live.
    /// </summary>
    public async Task<bool> WaitAppliedAsync(long version, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            var (live, behind) = await RoutersAsync(version);
            if (live > 0 && behind == 0)
                return true;
            if (time.GetUtcNow() >= deadline)
                return false;
            await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken);
        }
    }

    /// <summary>How many routers are live, and how many of those serve a table older than <paramref name="version"/>.</summary>
    public async Task<(int Live, int Behind)> RoutersAsync(long version)
    {
        var routers = await Db.HashKeysAsync(keys.Routers);
        if (routers.Length == 0)
            return (0, 0);
        var applied = await Db.StringGetAsync(routers.Select(r => (RedisKey)keys.RouterApplied(r.ToString())).ToArray());
        var live = 0;
        var behind = 0;
        for (var i = 0; i < routers.Length; i++)
        {
            if (applied[i].IsNull)
            {
                // Gone (its key expired): it no longer counts, and a restarted router enrolls again.
                _ = Db.HashDeleteAsync(keys.Routers, routers[i], CommandFlags.FireAndForget);
                continue;
            }
            live++;
            if (!long.TryParse(applied[i].ToString(), out var at) || at < version)
                behind++;
        }
        return (live, behind);
    }
}
