using System.Text.Json.Serialization;

namespace Paas.Core.Instances;

/// <summary>
/// How a process type's instances are judged healthy: a TCP connect to $PORT by default, or an HTTP GET
/// of a path answering 2xx/3xx. The cell agent checks the instance at its address on the engine's
/// network: every 100 ms while it starts, until the first success, then every IntervalSeconds.
/// </summary>
public sealed record HealthCheckSpec(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("path")] string? Path,
    [property: JsonPropertyName("timeout_seconds")] int TimeoutSeconds,
    [property: JsonPropertyName("interval_seconds")] int IntervalSeconds,
    [property: JsonPropertyName("grace_seconds")] int GraceSeconds)
{
    public const string Port = "port";
    public const string Http = "http";

    public static readonly HealthCheckSpec Default = new(Port, null, 2, 5, 60);
}
