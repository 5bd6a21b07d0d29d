using System.Text.Json.Serialization;

namespace Paas.Core.Instances;

/// <summary>An instance as a cell reports it: read back from the container engine.</summary>
public sealed record InstanceState(
    [property: JsonPropertyName("instance")] string InstanceId,
    [property: JsonPropertyName("container")] string ContainerId,
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("release")] int Release,
    [property: JsonPropertyName("process")] string Process,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("cell")] string Cell,
    [property: JsonPropertyName("running")] bool Running,
    [property: JsonPropertyName("address")] string? Address,
    [property: JsonPropertyName("since")] DateTimeOffset Since)
{
    [JsonPropertyName("memory_limit_bytes")]
    public long MemoryLimitBytes { get; init; }

    /// <summary>CPU shares the instance weighs on its cell, derived from its memory (<see cref="Instances.CpuShares"/>).</summary>
    [JsonPropertyName("cpu_shares")]
    public long CpuShares => Instances.CpuShares.ForMemory(MemoryLimitBytes);

    /// <summary>The instance's hard CPU cap in cores (<see cref="Instances.CpuShares.CoresForMemory"/>), as its cell set it; null from a cell older than the cap.</summary>
    [JsonPropertyName("cpu_cores")]
    public double? CpuCores { get; init; }

    [JsonPropertyName("memory_used_bytes")]
    public long MemoryUsedBytes { get; init; }

    [JsonPropertyName("exit_code")]
    public long? ExitCode { get; init; }

    [JsonPropertyName("oom_killed")]
    public bool OomKilled { get; init; }

    [JsonPropertyName("health_check")]
    public HealthCheckSpec? HealthCheck { get; init; }
}
