using System.Text.Json.Serialization;

namespace Paas.Core.Cells;

/// <summary>An instance exited without the platform asking it to: a crash, or a kill for memory.</summary>
public sealed record CellEvent(
    [property: JsonPropertyName("cell")] string Cell,
    [property: JsonPropertyName("instance")] string Instance,
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("process")] string Process,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("release")] int Release,
    [property: JsonPropertyName("exit_code")] long ExitCode,
    [property: JsonPropertyName("oom_killed")] bool OomKilled,
    [property: JsonPropertyName("at")] DateTimeOffset At)
{
    /// <summary>When the process had started, for its uptime (a long run resets the restart backoff); null from older agents.</summary>
    [JsonPropertyName("started_at")]
    public DateTimeOffset? StartedAt { get; init; }
}
