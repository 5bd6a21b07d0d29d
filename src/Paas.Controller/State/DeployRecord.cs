using System.Text.Json.Serialization;

namespace Paas.Controller.State;

/// <summary>
/// Where a deploy (a push, a config change, a rollback) stands, written at each step so that a controller
/// that dies mid-deploy finds, when it starts again, what it was doing: <see cref="Deploys.DeployRecovery"/>
/// resumes it or marks it failed. One record per app and release version.
/// </summary>
public sealed record DeployRecord(string App, int Version, DeployPhase Phase, string Commit, DateTimeOffset StartedAt, DateTimeOffset UpdatedAt)
{
    /// <summary>The release being rolled out, once its image exists (null while staging): what a resumed deploy rolls out.</summary>
    public ReleaseRecord? Release { get; init; }

    /// <summary>Why it failed or was rolled back, or that it was resumed after a restart; empty otherwise.</summary>
    public string Reason { get; init; } = "";

    /// <summary>True when a controller restart interrupted it and the next controller finished it.</summary>
    public bool Resumed { get; init; }

    [JsonIgnore]
    public bool Finished => Phase is DeployPhase.Released or DeployPhase.Failed or DeployPhase.RolledBack;

    /// <summary>The phase as `paas releases` shows it.</summary>
    public static string Describe(DeployPhase phase) => phase switch
    {
        DeployPhase.Staging => "staging",
        DeployPhase.ImageReady => "image ready",
        DeployPhase.ReleasePhase => "release phase",
        DeployPhase.Rolling => "rolling",
        DeployPhase.Released => "released",
        DeployPhase.Failed => "failed",
        DeployPhase.RolledBack => "rolled back",
        _ => phase.ToString(),
    };
}

/// <summary>A deploy's steps in order; the last three are final.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DeployPhase>))]
public enum DeployPhase
{
    Staging,
    ImageReady,
    ReleasePhase,
    Rolling,
    Released,
    Failed,
    RolledBack,
}
