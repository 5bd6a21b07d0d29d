namespace Paas.Placement;

/// <summary>A cell's fixed capacity, as it registered.</summary>
public sealed record CellCapacity(string Name, string Zone, long MemoryBytes, int MaxInstances);
