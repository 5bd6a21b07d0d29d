using Paas.Controller.Cells;
using Paas.Core.Cells;
using Paas.Core.Instances;
using Paas.Placement;

namespace Paas.Controller.Tests.Simulation;

/// <summary>
/// The simulation's cells and their liveness: a lost cell is cut off and not live, and what it last reported
/// stays in its registration (as its last heartbeat does in Redis); placement is production's (<see cref="CellPlacement"/>).
/// </summary>
public sealed class SimFleet(TimeProvider time) : ICellFleet, ICellEvents
{
    private readonly Lock _gate = new();
    private readonly List<SimCell> _cells = [];
    private readonly Dictionary<string, IReadOnlyList<InstanceState>> _lastReport = new(StringComparer.Ordinal);
    private readonly IPlacementPolicy _policy = new SpreadPlacementPolicy();
    private Func<CellEvent, Task>? _handler;
    private long _lists;
    private long _listed;
    private long _appLists;
    private long _appListed;

    /// <summary>Listings of every live cell's instances (each one asks every agent in production), and the instances they returned.</summary>
    public (long Lists, long Instances) Listings => (Interlocked.Read(ref _lists), Interlocked.Read(ref _listed));

    /// <summary>Listings of one app's instances (each one asks every agent, which filters by the app), and the instances they returned.</summary>
    public (long Lists, long Instances) AppListings => (Interlocked.Read(ref _appLists), Interlocked.Read(ref _appListed));

    public TimeSpan LostAfter { get; } = TimeSpan.FromSeconds(5);

    public IReadOnlyList<SimCell> Cells
    {
        get
        {
            lock (_gate)
                return _cells.ToList();
        }
    }

    public SimCell this[string name] => Cells.Single(c => c.Name == name);

    public SimCell Add(string name)
    {
        var cell = new SimCell(name, time);
        lock (_gate)
            _cells.Add(cell);
        return cell;
    }

    /// <summary>The cell stops answering and misses its heartbeats: lost, with its last report kept.</summary>
    public void Lose(string name)
    {
        var cell = this[name];
        lock (_gate)
            _lastReport[name] = cell.Instances;
        cell.Reachable = false;
    }

    /// <summary>The partition heals: the cell is live again with whatever it still runs.</summary>
    public void Return(string name)
    {
        lock (_gate)
            _lastReport.Remove(name);
        this[name].Reachable = true;
    }

    private bool IsLive(SimCell cell) => cell.Reachable;

    private CellRegistration Registration(SimCell cell)
    {
        IReadOnlyList<InstanceState> report;
        lock (_gate)
            report = _lastReport.TryGetValue(cell.Name, out var last) ? last : cell.Instances;
        return new CellRegistration(cell.Name, "zone-" + cell.Name, "sim://" + cell.Name, cell.MemoryBytes, cell.MaxInstances, time.GetUtcNow(), report);
    }

    public Task<IReadOnlyList<(CellRegistration Registration, bool Live)>> StatusAsync() =>
        Task.FromResult<IReadOnlyList<(CellRegistration, bool)>>(Cells.Select(c => (Registration(c), IsLive(c))).ToList());

    public Task<IReadOnlyList<InstanceState>> OnLostCellsAsync() =>
        Task.FromResult<IReadOnlyList<InstanceState>>(Cells.Where(c => !IsLive(c)).SelectMany(c => Registration(c).Instances).ToList());

    public async Task<IReadOnlyList<InstanceState>> OnLostCellsAsync(string app) =>
        (await OnLostCellsAsync()).Where(i => i.App == app).ToList();

    public Task<ICell?> FindAsync(string name) => Task.FromResult<ICell?>(Cells.FirstOrDefault(c => c.Name == name && IsLive(c)));

    public Task<IReadOnlyList<InstanceState>> ListAsync(CancellationToken cancellationToken)
    {
        var all = Cells.Where(IsLive).SelectMany(c => c.Instances).ToList();
        Interlocked.Increment(ref _lists);
        Interlocked.Add(ref _listed, all.Count);
        return Task.FromResult<IReadOnlyList<InstanceState>>(all);
    }

    public Task<IReadOnlyList<InstanceState>> ListAsync(string app, CancellationToken cancellationToken)
    {
        var mine = Cells.Where(IsLive).SelectMany(c => c.Instances.Where(i => i.App == app)).ToList();
        Interlocked.Increment(ref _appLists);
        Interlocked.Add(ref _appListed, mine.Count);
        return Task.FromResult<IReadOnlyList<InstanceState>>(mine);
    }

    public Task<(ICell? Cell, string? Reason)> PlaceAsync(string app, long memoryBytes, IReadOnlyList<InstanceState> instances, IReadOnlyList<InstanceState> pending,
        string? preferred = null, IReadOnlySet<string>? avoid = null, string? pinned = null)
    {
        var live = Cells.Where(c => IsLive(c) && avoid?.Contains(c.Name) != true).Select(Registration).ToList();
        var chosen = CellPlacement.Choose(_policy, live, app, memoryBytes, instances, pending, preferred, pinned, out var reason);
        return Task.FromResult<(ICell?, string?)>(chosen is null ? (null, reason) : (this[chosen], null));
    }

    public Task SubscribeAsync(Func<CellEvent, Task> handler)
    {
        _handler = handler;
        return Task.CompletedTask;
    }

    /// <summary>Delivers an agent's event to the converger and waits until it has acted on it.</summary>
    public Task RaiseAsync(CellEvent died) => _handler?.Invoke(died) ?? Task.CompletedTask;
}
