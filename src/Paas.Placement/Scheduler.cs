using Paas.Core.Instances;

namespace Paas.Placement;

/// <summary>
/// Places instances one after another on a fixed set of cells, keeping the running totals (reserved
/// memory and CPU shares, instances per cell, per app per cell and per app per zone) that the policy scores, so each
/// decision costs one pass over the cells. Pure and deterministic: the same inputs give the same placements.
/// </summary>
public sealed class Scheduler
{
    private readonly IPlacementPolicy _policy;
    private readonly CellState[] _cells;
    private readonly Dictionary<(string App, string Zone), int> _appPerZone = new();

    private sealed class CellState(CellCapacity capacity)
    {
        public CellCapacity Capacity { get; } = capacity;
        public long Reserved { get; set; }
        public long ReservedCpu { get; set; }
        public int Instances { get; set; }
        public Dictionary<string, int> PerApp { get; } = new(StringComparer.Ordinal);
    }

    public Scheduler(IPlacementPolicy policy, IEnumerable<CellCapacity> cells)
    {
        _policy = policy;
        _cells = cells.OrderBy(c => c.Name, StringComparer.Ordinal).Select(c => new CellState(c)).ToArray();
    }

    /// <summary>Counts an instance that already runs (or was placed earlier in this pass).</summary>
    public void Reserve(string cell, string app, long memoryBytes)
    {
        var state = Array.Find(_cells, c => c.Capacity.Name == cell);
        if (state is null)
            return; // an instance on a cell that is no longer live takes nothing from the live ones
        state.Reserved += memoryBytes;
        state.ReservedCpu += CpuShares.ForMemory(memoryBytes);
        state.Instances++;
        state.PerApp[app] = state.PerApp.GetValueOrDefault(app) + 1;
        var zone = (app, state.Capacity.Zone);
        _appPerZone[zone] = _appPerZone.GetValueOrDefault(zone) + 1;
    }

    /// <summary>Chooses a cell for one instance and reserves it there; null with a one-sentence reason when none fits.</summary>
    public string? Place(string app, long memoryBytes, out string? reason)
    {
        if (_cells.Length == 0)
        {
            reason = "no cell is registered and alive";
            return null;
        }
        var candidates = new List<CellCandidate>(_cells.Length);
        foreach (var cell in _cells)
        {
            if (cell.Instances >= cell.Capacity.MaxInstances)
                continue;
            candidates.Add(new CellCandidate(cell.Capacity.Name, cell.Capacity.Zone, cell.Capacity.MemoryBytes, cell.Reserved,
                cell.PerApp.GetValueOrDefault(app), _appPerZone.GetValueOrDefault((app, cell.Capacity.Zone)))
            { CpuCapacityShares = cell.Capacity.CpuShares, CpuReservedShares = cell.ReservedCpu });
        }
        if (candidates.Count == 0)
        {
            reason = "every cell runs its maximum number of instances";
            return null;
        }
        var chosen = _policy.Choose(candidates, memoryBytes, out reason);
        if (chosen is not null)
            Reserve(chosen, app, memoryBytes);
        return chosen;
    }

    /// <summary>
    /// Places one instance on the named cell if it has room (memory and instance count), whatever the
    /// policy would prefer: a crashed instance's replacement goes back to its own cell, whose engine has
    /// the image and where nothing needs moving. Null when the cell is not live or full.
    /// </summary>
    public string? PlaceOn(string cell, string app, long memoryBytes)
    {
        var state = Array.Find(_cells, c => c.Capacity.Name == cell);
        if (state is null || state.Instances >= state.Capacity.MaxInstances || state.Capacity.MemoryBytes - state.Reserved < memoryBytes
            || (state.Capacity.CpuShares > 0 && state.Capacity.CpuShares - state.ReservedCpu < CpuShares.ForMemory(memoryBytes)))
            return null;
        Reserve(cell, app, memoryBytes);
        return cell;
    }
}
