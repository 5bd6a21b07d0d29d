using System.Text.Json.Serialization;
using Paas.Core.Instances;

namespace Paas.Core.Cells;

/// <summary>
/// What a cell agent publishes at every heartbeat: where to reach it, what it can hold, and every instance
/// it runs, read back from the engine. A registration whose heartbeat is older than the lost-cell timeout
/// means the cell is gone.
/// </summary>
public sealed record CellRegistration(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("zone")] string Zone,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("memory_bytes")] long MemoryBytes,
    [property: JsonPropertyName("max_instances")] int MaxInstances,
    [property: JsonPropertyName("heartbeat_at")] DateTimeOffset HeartbeatAt,
    [property: JsonPropertyName("instances")] IReadOnlyList<InstanceState> Instances)
{
    /// <summary>The address other hosts reach the cell and its instances at (its PAAS_CELL_ADDRESS); null from an agent that predates it.</summary>
    [JsonPropertyName("address")]
    public string? Address { get; init; }

    /// <summary>CPU shares the cell offers to instances (PAAS_CELL_CPU_SHARES); 0 from an agent that predates it, whose CPU placement does not count.</summary>
    [JsonPropertyName("cpu_shares")]
    public long CpuShares { get; init; }

    /// <summary>Release images of this platform on the cell's engine, whether built or pulled there.</summary>
    [JsonPropertyName("images")]
    public int Images { get; init; }

    /// <summary>Image pulls that failed on this cell since its agent started (registry down, disk full, bad credentials).</summary>
    [JsonPropertyName("pull_failures")]
    public long PullFailures { get; init; }

    /// <summary>The stack image's pre-pull (PAAS_CELL_STACK_PREPULL): `pulled`, `pulling`, `waiting` (for the controller to publish it), `failed: REASON`; null when off.</summary>
    [JsonPropertyName("stack")]
    public string? Stack { get; init; }
}
