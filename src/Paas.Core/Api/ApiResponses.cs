using System.Text.Json;
using System.Text.Json.Serialization;

namespace Paas.Core.Api;

// The API's answers for the main commands, one type each: the controller serialises these and the CLI reads the
// same types back, so a field renamed or retyped on one side is a compile error on the other, not a crash.

/// <summary>An app: GET/POST /v1/apps, GET /v1/apps/{name}.</summary>
public sealed record AppResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("git_url")] string GitUrl,
    [property: JsonPropertyName("web_url")] string WebUrl,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("owner")] string Owner,
    [property: JsonPropertyName("release")] int? Release);

/// <summary>A custom domain: GET/POST /v1/apps/{name}/domains.</summary>
public sealed record DomainResponse(
    [property: JsonPropertyName("hostname")] string Hostname,
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt);

/// <summary>
/// PATCH /v1/apps/{name}/config: the config vars now, the release the change made, and whether that release runs
/// (false before the first deploy: the release has no build and the vars apply from the first deploy).
/// </summary>
public sealed record ConfigChangeResponse(
    [property: JsonPropertyName("config")] IReadOnlyDictionary<string, string> Config,
    [property: JsonPropertyName("release")] int? Release,
    [property: JsonPropertyName("deployed")] bool Deployed);

/// <summary>The last crash of an instance's slot.</summary>
public sealed record CrashResponse(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("exit_code")] long ExitCode,
    [property: JsonPropertyName("oom_killed")] bool OomKilled);

/// <summary>One running (or crashed, or stopping) instance: GET /v1/apps/{name}/ps.</summary>
public sealed record InstanceResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("instance")] string Instance,
    [property: JsonPropertyName("process")] string Process,
    [property: JsonPropertyName("release")] int Release,
    [property: JsonPropertyName("cell")] string Cell,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("since")] DateTimeOffset Since,
    [property: JsonPropertyName("restarts")] int Restarts,
    [property: JsonPropertyName("last_crash")] CrashResponse? LastCrash,
    [property: JsonPropertyName("memory_used_bytes")] long MemoryUsedBytes,
    [property: JsonPropertyName("memory_limit_bytes")] long MemoryLimitBytes,
    [property: JsonPropertyName("cpu_shares")] long CpuShares)
{
    /// <summary>The instance's hard CPU cap in cores, as its cell set it (<see cref="Paas.Core.Instances.CpuShares.CoresForMemory"/>); null from a cell older than the cap.</summary>
    [JsonPropertyName("cpu_cores")]
    public double? CpuCores { get; init; }
}

/// <summary>A release, or a deploy that has not (yet) become one: GET /v1/apps/{name}/releases[/vN].</summary>
public sealed record ReleaseResponse(
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("image")] string? Image,
    [property: JsonPropertyName("registry_image")] string? RegistryImage,
    [property: JsonPropertyName("commit")] string Commit,
    [property: JsonPropertyName("buildpack")] string? Buildpack,
    [property: JsonPropertyName("process_types")] IReadOnlyDictionary<string, string>? ProcessTypes,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("current")] bool Current,
    [property: JsonPropertyName("config")] IReadOnlyDictionary<string, string>? Config,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("status_reason")] string StatusReason,
    [property: JsonPropertyName("resumed")] bool Resumed);

/// <summary>How clients read these: a missing field or a null where the type says none is an error, not a silent default.</summary>
public static class ApiJson
{
    public static readonly JsonSerializerOptions Strict = new()
    {
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };
}
