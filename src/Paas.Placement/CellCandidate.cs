namespace Paas.Placement;

/// <summary>A cell as placement sees it: what it can hold and what it already holds.</summary>
/// <param name="InstancesOfAppInZone">Instances of the app on all cells of this cell's zone.</param>
public sealed record CellCandidate(string Name, string Zone, long MemoryCapacityBytes, long MemoryReservedBytes, int InstancesOfApp, int InstancesOfAppInZone = 0)
{
    /// <summary>CPU shares the cell offers; 0: not counted.</summary>
    public long CpuCapacityShares { get; init; }

    public long CpuReservedShares { get; init; }
}
