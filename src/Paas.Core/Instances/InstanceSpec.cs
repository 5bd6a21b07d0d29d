using System.Text.Json.Serialization;

namespace Paas.Core.Instances;

/// <summary>What a cell needs to start one instance of an app's process.</summary>
public sealed record InstanceSpec(
    [property: JsonPropertyName("instance")] string InstanceId,
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("release")] int Release,
    [property: JsonPropertyName("process")] string Process,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("image")] string Image,
    [property: JsonPropertyName("command")] string Command,
    [property: JsonPropertyName("environment")] IReadOnlyDictionary<string, string> Environment,
    [property: JsonPropertyName("memory_bytes")] long MemoryBytes)
{
    /// <summary>Checked by the cell while the instance runs; null: only that the process runs.</summary>
    [JsonPropertyName("health_check")]
    public HealthCheckSpec? HealthCheck { get; init; }

    /// <summary>Persistent directories (`paas storage:mount`); the cell creates each volume the first time.</summary>
    [JsonPropertyName("mounts")]
    public IReadOnlyList<VolumeMount> Mounts { get; init; } = [];
}
