using System.Text.Json.Serialization;

namespace Paas.Core.Api;

/// <summary>
/// One line of a long operation's progress (scale, restart, config change, rollback), streamed as NDJSON when the
/// request asks with <c>Accept: application/x-ndjson</c>: first <see cref="Accepted"/>, then what the instances do as
/// the cells report it (starting, healthy, routed, stopped, unhealthy), and last one <see cref="Done"/> or
/// <see cref="Failed"/> carrying the <see cref="Outcome"/>. Without that header the same endpoints answer as before,
/// once, at the end.
/// </summary>
public sealed record ProgressEvent(
    [property: JsonPropertyName("event")] string Event,
    [property: JsonPropertyName("instance")] string? Instance = null,
    [property: JsonPropertyName("release")] int? Release = null,
    [property: JsonPropertyName("cell")] string? Cell = null,
    [property: JsonPropertyName("seconds")] double? Seconds = null,
    [property: JsonPropertyName("message")] string? Message = null)
{
    public const string MediaType = "application/x-ndjson";

    /// <summary>The request is valid and under way: from here on, a client that stops listening leaves it running.</summary>
    public const string Accepted = "accepted";
    /// <summary>An instance was placed on <see cref="Cell"/> and its container is being started.</summary>
    public const string Starting = "starting";
    /// <summary>An instance passed its health check, <see cref="Seconds"/> after it was placed.</summary>
    public const string Healthy = "healthy";
    /// <summary>Every router confirmed the instance's route: it serves requests.</summary>
    public const string Routed = "routed";
    /// <summary>An instance was taken out of the routes and stopped (of release <see cref="Release"/>).</summary>
    public const string Stopped = "stopped";
    /// <summary>An instance never became healthy; <see cref="Message"/> says why.</summary>
    public const string Unhealthy = "unhealthy";
    public const string Done = "done";
    public const string Failed = "failed";

    /// <summary>On the last line only (done or failed): what came of the operation.</summary>
    [JsonPropertyName("outcome")]
    public OperationOutcome? Outcome { get; init; }

    public bool IsFinal => Event is Done or Failed;
}

/// <summary>
/// The end of an operation: <see cref="Summary"/> is the sentence a user reads ("Scaled web to 5: 5 of 5 healthy in
/// 3.2 s", or why it failed); <see cref="Healthy"/> of <see cref="Wanted"/> instances of <see cref="Release"/> run.
/// </summary>
public sealed record OperationOutcome(
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("summary")] string Summary,
    [property: JsonPropertyName("release")] int? Release,
    [property: JsonPropertyName("healthy")] int Healthy,
    [property: JsonPropertyName("wanted")] int Wanted,
    [property: JsonPropertyName("seconds")] double Seconds)
{
    /// <summary>A failure's kind, as in the API's error bodies (restart_failed, release_failed, unplaced...).</summary>
    [JsonPropertyName("error")]
    public string? Error { get; init; }

    /// <summary>False for a config change before the first deploy: the release has no build, nothing restarted.</summary>
    [JsonPropertyName("deployed")]
    public bool Deployed { get; init; } = true;

    /// <summary>How many instances the operation replaced (ps:restart).</summary>
    [JsonPropertyName("restarted")]
    public int? Restarted { get; init; }
}
