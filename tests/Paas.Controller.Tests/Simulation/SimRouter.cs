using System.Collections.Concurrent;
using Paas.Controller.Routing;
using Paas.Core.Routing;

namespace Paas.Controller.Tests.Simulation;

/// <summary>
/// The routing table in memory, with one router that applies each version as it is written (so a wait for a
/// version returns at once). Counts whole-table reads, which a pass over one app must not need.
/// </summary>
public sealed class SimRouter : IRoutePublisher
{
    private readonly ConcurrentDictionary<string, RouteEntry> _routes = new(StringComparer.Ordinal);
    /// <summary>Indexed by app as <see cref="RoutePublisher"/> is, so the fake adds no per-app cost of its own to a pass.</summary>
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, RouteEntry>> _byApp = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _hosts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _options = new(StringComparer.Ordinal);
    private long _version;
    private int _tableReads;

    /// <summary>Reads of the whole routes table (a full pass makes one).</summary>
    public int TableReads => Volatile.Read(ref _tableReads);

    /// <summary>What the router sends traffic to for the app.</summary>
    public IReadOnlyList<RouteEntry> RoutesOf(string app) => _byApp.TryGetValue(app, out var routes) ? routes.Values.ToList() : [];

    public Task SetHostAsync(string host, string app)
    {
        _hosts[host] = app;
        Interlocked.Increment(ref _version);
        return Task.CompletedTask;
    }

    public Task RemoveHostAsync(string host)
    {
        _hosts.TryRemove(host, out _);
        Interlocked.Increment(ref _version);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyDictionary<string, string>> HostsAsync() => Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>(_hosts));

    public Task<long> SetAppOptionsAsync(string app, AppRouteOptions options)
    {
        if (options == AppRouteOptions.None)
            _options.TryRemove(app, out _);
        else
            _options[app] = RoutingJson.Write(options);
        return Task.FromResult(Interlocked.Increment(ref _version));
    }

    public Task<IReadOnlyDictionary<string, string>> AppOptionsAsync() => Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>(_options));

    public Task<long> AddRouteAsync(RouteEntry entry)
    {
        Add(entry);
        return Task.FromResult(Interlocked.Increment(ref _version));
    }

    public Task<long> AddRoutesAsync(IReadOnlyList<RouteEntry> entries)
    {
        foreach (var entry in entries)
            Add(entry);
        return Task.FromResult(Interlocked.Increment(ref _version));
    }

    public Task<long> RemoveRouteAsync(string instanceId)
    {
        if (_routes.TryRemove(instanceId, out var removed) && _byApp.TryGetValue(removed.App, out var routes))
            routes.TryRemove(instanceId, out _);
        return Task.FromResult(Interlocked.Increment(ref _version));
    }

    private void Add(RouteEntry entry)
    {
        _routes[entry.Instance] = entry;
        _byApp.GetOrAdd(entry.App, _ => new ConcurrentDictionary<string, RouteEntry>(StringComparer.Ordinal))[entry.Instance] = entry;
    }

    public Task<IReadOnlyList<RouteEntry>> RoutesOfAppAsync(string app) => Task.FromResult(RoutesOf(app));

    public Task ReloadAsync()
    {
        Interlocked.Increment(ref _tableReads);
        return Task.CompletedTask;
    }

    public Task<bool> WaitAppliedAsync(long version, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken) =>
        Task.FromResult(Volatile.Read(ref _version) >= version);
}
