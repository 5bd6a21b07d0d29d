using Paas.Core.Instances;

namespace Paas.Placement;

/// <summary>
/// Diego-style: filter out cells that cannot hold the instance's memory or CPU shares, then prefer the zone with the
/// fewest instances of this app, then the cell with the fewest (spread), then the least reserved memory;
/// ties broken by name so the choice is deterministic.
/// </summary>
public sealed class SpreadPlacementPolicy : IPlacementPolicy
{
    public string? Choose(IReadOnlyList<CellCandidate> cells, long memoryBytes, out string? reason)
    {
        CellCandidate? best = null;
        long mostFree = 0;
        long mostFreeCpu = 0;
        var cpu = CpuShares.ForMemory(memoryBytes);
        var cpuShort = false;
        foreach (var cell in cells)
        {
            var free = cell.MemoryCapacityBytes - cell.MemoryReservedBytes;
            mostFree = Math.Max(mostFree, free);
            if (free < memoryBytes)
                continue;
            // CPU counts as memory does: a cell whose shares are all promised takes no more (0: an agent that predates CPU).
            if (cell.CpuCapacityShares > 0)
            {
                var freeCpu = cell.CpuCapacityShares - cell.CpuReservedShares;
                if (freeCpu < cpu)
                {
                    cpuShort = true;
                    mostFreeCpu = Math.Max(mostFreeCpu, freeCpu);
                    continue;
                }
            }
            if (best is null || Better(cell, best))
                best = cell;
        }
        if (best is null)
        {
            reason = cells.Count == 0
                ? "no cell is available"
                : cpuShort && mostFree >= memoryBytes
                ? $"insufficient CPU: {cpu - mostFreeCpu} CPU shares short on the cell with the most to spare"
                : $"insufficient memory: {(memoryBytes - mostFree) / (1024 * 1024)} MB short on the emptiest cell";
            return null;
        }
        reason = null;
        return best.Name;
    }

    private static bool Better(CellCandidate a, CellCandidate b)
    {
        if (a.InstancesOfAppInZone != b.InstancesOfAppInZone)
            return a.InstancesOfAppInZone < b.InstancesOfAppInZone;
        if (a.InstancesOfApp != b.InstancesOfApp)
            return a.InstancesOfApp < b.InstancesOfApp;
        if (a.MemoryReservedBytes != b.MemoryReservedBytes)
            return a.MemoryReservedBytes < b.MemoryReservedBytes;
        return string.CompareOrdinal(a.Name, b.Name) < 0;
    }
}
