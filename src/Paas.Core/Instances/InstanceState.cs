namespace Paas.Core.Instances;

/// <summary>An instance as a cell reports it: read back from the container engine.</summary>
public sealed record InstanceState(
    string InstanceId,
    string ContainerId,
    string App,
    int Release,
    string Process,
    int Index,
    string Cell,
    bool Running,
    string? Address,
    DateTimeOffset Since);
