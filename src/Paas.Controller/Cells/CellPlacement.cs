using Paas.Core.Cells;
using Paas.Core.Instances;
using Paas.Placement;

namespace Paas.Controller.Cells;

/// <summary>
/// Where a new instance goes among the live cells: one rule, used by <see cref="CellDirectory"/> and by the
/// simulation's cells alike, so the simulation tests place as production does.
/// </summary>
public static class CellPlacement
{
    /// <summary>The chosen cell's name, or null with a one-sentence reason when none has room.</summary>
    /// <param name="pending">Placements made in this pass that the cells have not reported yet, so a burst of starts does not pile onto one cell.</param>
    /// <param name="preferred">A cell to use whenever it has room (memory and instance count), whatever the spread would say.</param>
    public static string? Choose(IPlacementPolicy policy, IReadOnlyList<CellRegistration> live, string app, long memoryBytes,
        IReadOnlyList<InstanceState> instances, IReadOnlyList<InstanceState> pending, string? preferred, out string? reason)
    {
        var scheduler = new Scheduler(policy, live.Select(r => new CellCapacity(r.Name, r.Zone, r.MemoryBytes, r.MaxInstances, r.CpuShares)));
        // Every running instance on the live cells counts, this app's and others' (from the heartbeats),
        // plus this pass's placements the cells have not reported yet.
        var counted = live.SelectMany(r => r.Instances).Concat(instances).Concat(pending)
            .Where(i => i.Running)
            .DistinctBy(i => i.InstanceId);
        foreach (var instance in counted)
            scheduler.Reserve(instance.Cell, instance.App, instance.MemoryLimitBytes);
        reason = null;
        var chosen = preferred is null ? null : scheduler.PlaceOn(preferred, app, memoryBytes);
        return chosen ?? scheduler.Place(app, memoryBytes, out reason);
    }
}
