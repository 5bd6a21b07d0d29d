using System.Collections.Concurrent;
using System.Text.Json;
using Paas.Controller.Instances;
using Paas.Core.Cells;
using Paas.Core.Instances;
using Paas.Core.Routing;
using Paas.Placement;
using StackExchange.Redis;

namespace Paas.Controller.Cells;

/// <summary>
/// The cells that registered through Redis. A cell is live while its alive key exists (one definition,
/// timed by Redis: <see cref="CellHeartbeat"/>); a registered cell without it is lost: its instances count
/// as gone and are placed elsewhere.
/// </summary>
public sealed class CellDirectory(
    IConnectionMultiplexer redis,
    CellKeys keys,
    RouteKeys routeKeys,
    string cellSecret,
    IPlacementPolicy policy,
    TimeSpan lostAfter,
    ILogger<CellDirectory> logger)
{
    private readonly ConcurrentDictionary<string, RemoteCell> _clients = new();
    private readonly HttpMessageHandler _handler = new SocketsHttpHandler { UseProxy = false, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) };

    public TimeSpan LostAfter => lostAfter;

    public async Task<IReadOnlyList<CellRegistration>> RegistrationsAsync()
    {
        var entries = await redis.GetDatabase().HashGetAllAsync(keys.Cells);
        var registrations = new List<CellRegistration>();
        foreach (var entry in entries)
        {
            try
            {
                if (JsonSerializer.Deserialize<CellRegistration>(entry.Value.ToString()) is { } registration)
                    registrations.Add(registration);
            }
            catch (JsonException)
            {
                logger.LogWarning("Ignoring an unreadable registration for cell {Cell}", entry.Name.ToString());
            }
        }
        return registrations.OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Every registered cell, and whether it is live (its alive key exists).</summary>
    public async Task<IReadOnlyList<(CellRegistration Registration, bool Live)>> StatusAsync()
    {
        var registrations = await RegistrationsAsync();
        if (registrations.Count == 0)
            return [];
        var alive = await redis.GetDatabase().StringGetAsync(registrations.Select(r => (RedisKey)routeKeys.CellAlive(r.Name)).ToArray());
        return registrations.Select((r, i) => (r, !alive[i].IsNull)).ToList();
    }

    public async Task<IReadOnlyList<CellRegistration>> LiveAsync() =>
        (await StatusAsync()).Where(s => s.Live).Select(s => s.Registration).ToList();

    /// <summary>
    /// The instances of one app that lost cells last reported: they may well be serving still (a crashed
    /// agent is not a crashed host), so their routes stay until their slots are filled elsewhere.
    /// </summary>
    public async Task<IReadOnlyList<InstanceState>> OnLostCellsAsync(string app) =>
        (await StatusAsync()).Where(s => !s.Live).SelectMany(s => s.Registration.Instances).Where(i => i.App == app).ToList();

    public ICell Get(string name, string url) =>
        _clients.AddOrUpdate(name, _ => new RemoteCell(name, url, cellSecret, _handler),
            (_, existing) => existing.Url == url ? existing : new RemoteCell(name, url, cellSecret, _handler));

    public async Task<ICell?> FindAsync(string name) =>
        (await LiveAsync()).FirstOrDefault(r => r.Name == name) is { } r ? Get(r.Name, r.Url) : null;

    /// <summary>
    /// Every instance on every live cell, asked of the agents directly (fresher than their heartbeats).
    /// A live cell that does not answer contributes its last heartbeat's report.
    /// </summary>
    public async Task<IReadOnlyList<InstanceState>> ListAsync(CancellationToken cancellationToken)
    {
        var live = await LiveAsync();
        var lists = await Task.WhenAll(live.Select(async r =>
        {
            try
            {
                return await Get(r.Name, r.Url).ListAsync(cancellationToken);
            }
            catch (CellUnavailableException)
            {
                return r.Instances;
            }
        }));
        return lists.SelectMany(l => l).ToList();
    }

    /// <summary>
    /// Picks a cell for a new instance. <paramref name="pending"/> counts placements made in this pass that
    /// the cells have not reported yet, so a burst of starts does not pile onto one cell.
    /// </summary>
    public async Task<(ICell? Cell, string? Reason)> PlaceAsync(string app, long memoryBytes, IReadOnlyList<InstanceState> instances, IReadOnlyList<InstanceState> pending)
    {
        var live = await LiveAsync();
        var scheduler = new Scheduler(policy, live.Select(r => new CellCapacity(r.Name, r.Zone, r.MemoryBytes, r.MaxInstances)));
        // Every running instance on the live cells counts, this app's and others' (from the heartbeats),
        // plus this pass's placements the cells have not reported yet.
        var counted = live.SelectMany(r => r.Instances).Concat(instances).Concat(pending)
            .Where(i => i.Running)
            .DistinctBy(i => i.InstanceId);
        foreach (var instance in counted)
            scheduler.Reserve(instance.Cell, instance.App, instance.MemoryLimitBytes);
        var chosen = scheduler.Place(app, memoryBytes, out var reason);
        return chosen is null ? (null, reason) : (Get(chosen, live.First(r => r.Name == chosen).Url), null);
    }
}
