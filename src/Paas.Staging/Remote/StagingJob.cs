using System.Text.Json.Serialization;

namespace Paas.Staging.Remote;

/// <summary>
/// One build as a staging cell runs it: everything the controller decided (which buildpacks, the config the
/// buildpacks see, the limits), with the buildpacks already fetched, so fetching and its network rules stay on
/// the controller. Travels as the `request.json` of a <see cref="StagingBundle"/>. Config vars are secrets: never logged.
/// </summary>
public sealed record StagingJob(
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("release")] int Release,
    [property: JsonPropertyName("source_version")] string SourceVersion,
    [property: JsonPropertyName("config_vars")] IReadOnlyDictionary<string, string> ConfigVars,
    [property: JsonPropertyName("buildpacks")] IReadOnlyList<StagedBuildpack> Buildpacks,
    [property: JsonPropertyName("time_limit_seconds")] double TimeLimitSeconds,
    [property: JsonPropertyName("memory_bytes")] long MemoryBytes,
    [property: JsonPropertyName("output_limit_bytes")] long OutputLimitBytes,
    [property: JsonPropertyName("build_defaults")] IReadOnlyDictionary<string, string>? BuildDefaults = null)
{
    /// <summary>null: the buildpack lifecycle; "dockerfile": the pushed tree's own Dockerfile (<see cref="Dockerfiles.DockerfileStager"/>).</summary>
    [JsonPropertyName("builder")] public string? Builder { get; init; }

    /// <summary>A Dockerfile build's --build-arg values (the config vars app.json's build.args names). Secrets: never logged.</summary>
    [JsonPropertyName("build_args")] public IReadOnlyDictionary<string, string>? BuildArgs { get; init; }

    /// <summary>The operator allows Dockerfile images that run as root (PAAS_DOCKERFILE_ALLOW_ROOT).</summary>
    [JsonPropertyName("allow_root")] public bool AllowRoot { get; init; }

    /// <summary>A prebuilt image being deployed (the Dockerfile is then `FROM` it): messages name it, and the release records its digest.</summary>
    [JsonPropertyName("image")] public string? Image { get; init; }

    /// <summary>Credentials for pulling <see cref="Image"/> from its registry, given with that deploy only. Secrets: never logged.</summary>
    [JsonPropertyName("registry_username")] public string? RegistryUsername { get; init; }

    [JsonPropertyName("registry_password")] public string? RegistryPassword { get; init; }
}

/// <summary>
/// A chosen buildpack: how the pusher named it (a name or URL, used in messages), and either the name of a
/// built-in or, for a fetched one, nothing: its files travel in the bundle under `custom/INDEX/`.
/// </summary>
public sealed record StagedBuildpack(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("built_in")] string? BuiltIn);
