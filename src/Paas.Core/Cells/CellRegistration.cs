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
    [property: JsonPropertyName("instances")] IReadOnlyList<InstanceState> Instances);
