namespace Paas.Placement;

/// <summary>A cell as placement sees it: what it can hold and what it already holds.</summary>
public sealed record CellCandidate(string Name, string Zone, long MemoryCapacityBytes, long MemoryReservedBytes, int InstancesOfApp);
