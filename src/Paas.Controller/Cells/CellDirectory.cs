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
    ILogger<CellDirectory> logger) : ICellFleet
{
    private readonly ConcurrentDictionary<string, RemoteCell> _clients = new();
    // A host that vanished does not refuse connections, it swallows them: without a connect timeout a call to
    // it would wait for the client's whole timeout (minutes, for image pulls) while the cell still looks live.
    private readonly HttpMessageHandler _handler = new SocketsHttpHandler
    {
        UseProxy = false,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        ConnectTimeout = TimeSpan.FromSeconds(2),
    };

    /// <summary>How long listing a cell's instances may take before its last heartbeat's report stands in (the engine answers in milliseconds).</summary>
    private static readonly TimeSpan ListTimeout = TimeSpan.FromSeconds(3);

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
        (await OnLostCellsAsync()).Where(i => i.App == app).ToList();

    /// <summary>Every app's instances on lost cells, for a full pass (one read, not one per app).</summary>
    public async Task<IReadOnlyList<InstanceState>> OnLostCellsAsync() =>
        (await StatusAsync()).Where(s => !s.Live).SelectMany(s => s.Registration.Instances).ToList();

    public ICell Get(string name, string url) =>
        _clients.AddOrUpdate(name, _ => new RemoteCell(name, url, cellSecret, _handler),
            (_, existing) => existing.Url == url ? existing : new RemoteCell(name, url, cellSecret, _handler));

    public async Task<ICell?> FindAsync(string name) =>
        (await LiveAsync()).FirstOrDefault(r => r.Name == name) is { } r ? Get(r.Name, r.Url) : null;

    /// <summary>
    /// Every instance on every live cell, asked of the agents directly (fresher than their heartbeats).
    /// A live cell that does not answer contributes its last heartbeat's report.
    /// </summary>
    public Task<IReadOnlyList<InstanceState>> ListAsync(CancellationToken cancellationToken) => ListMatchingAsync(null, cancellationToken);

    /// <summary>One app's instances on every live cell: each agent filters by the app (<c>GET v1/instances?app=</c>).</summary>
    public Task<IReadOnlyList<InstanceState>> ListAsync(string app, CancellationToken cancellationToken) => ListMatchingAsync(app, cancellationToken);

    private async Task<IReadOnlyList<InstanceState>> ListMatchingAsync(string? app, CancellationToken cancellationToken)
    {
        var live = await LiveAsync();
        var lists = await Task.WhenAll(live.Select(async r =>
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(ListTimeout);
            var cell = Get(r.Name, r.Url);
            try
            {
                return app is null ? await cell.ListAsync(bounded.Token) : await cell.ListAsync(app, bounded.Token);
            }
            catch (CellUnavailableException)
            {
                return Reported(r, app);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A pooled connection to a host that just went silent: its requests vanish without an error.
                return Reported(r, app);
            }
        }));
        return lists.SelectMany(l => l).ToList();
    }

    private static IReadOnlyList<InstanceState> Reported(CellRegistration cell, string? app) =>
        app is null ? cell.Instances : cell.Instances.Where(i => i.App == app).ToList();

    /// <summary>
    /// Picks a cell for a new instance. <paramref name="pending"/> counts placements made in this pass that
    /// the cells have not reported yet, so a burst of starts does not pile onto one cell.
    /// </summary>
    /// <param name="preferred">A cell to use whenever it has room (memory and instance count), whatever the spread would say.</param>
    /// <param name="avoid">Cells not to use (one just stopped answering while an instance started on it).</param>
    /// <param name="pinned">The only cell it may go to (the cell holding the process type's volume), whatever the policy prefers.</param>
    public async Task<(ICell? Cell, string? Reason)> PlaceAsync(string app, long memoryBytes, IReadOnlyList<InstanceState> instances, IReadOnlyList<InstanceState> pending,
        string? preferred = null, IReadOnlySet<string>? avoid = null, string? pinned = null)
    {
        var live = (await LiveAsync()).Where(r => avoid is null || !avoid.Contains(r.Name)).ToList();
        var chosen = CellPlacement.Choose(policy, live, app, memoryBytes, instances, pending, preferred, pinned, out var reason);
        return chosen is null ? (null, reason) : (Get(chosen, live.First(r => r.Name == chosen).Url), null);
    }
}
