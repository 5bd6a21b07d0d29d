using System.Text.Json.Serialization;

namespace Paas.Core.Metrics;

/// <summary>
/// One router's counts for one app since the router started: requests by status code and durations by
/// <see cref="LatencyBuckets"/> bucket. Cumulative, so a missed publication loses no requests; the
/// controller takes differences between successive reads.
/// </summary>
public sealed record AppTraffic(
    [property: JsonPropertyName("started")] DateTimeOffset RouterStarted,
    [property: JsonPropertyName("status")] Dictionary<int, long> ByStatus,
    [property: JsonPropertyName("buckets")] long[] Buckets);

/// <summary>One instance's resource use as its cell last sampled it from the engine.</summary>
public sealed record InstanceUsage(
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("process")] string Process,
    [property: JsonPropertyName("instance")] string Instance,
    [property: JsonPropertyName("cpu_percent")] double CpuPercent,
    [property: JsonPropertyName("memory_bytes")] long MemoryBytes,
    [property: JsonPropertyName("at")] DateTimeOffset At);
