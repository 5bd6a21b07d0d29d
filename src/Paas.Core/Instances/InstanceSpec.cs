namespace Paas.Core.Instances;

/// <summary>What a cell needs to start one instance of an app's process.</summary>
public sealed record InstanceSpec(
    string InstanceId,
    string App,
    int Release,
    string Process,
    int Index,
    string Image,
    string Command,
    IReadOnlyDictionary<string, string> Environment,
    long MemoryBytes);
