namespace Paas.Placement;

/// <summary>A cell's fixed capacity, as it registered; CpuShares 0 (an agent that predates it): CPU is not counted.</summary>
public sealed record CellCapacity(string Name, string Zone, long MemoryBytes, int MaxInstances, long CpuShares = 0);
