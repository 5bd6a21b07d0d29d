using Paas.Staging.Buildpacks;

namespace Paas.Staging;

/// <summary>
/// What to stage: one app's source (a tar owned by the app user) at one commit, the config vars the
/// buildpacks see in ENV_DIR, and the buildpacks to run (null or empty: detect among the built-ins),
/// fetched with the pusher's trust (a tenant's only from public hosts).
/// </summary>
public sealed record StagingRequest(
    string App,
    int Release,
    string SourceVersion,
    Func<Stream, CancellationToken, Task> WriteSourceTar,
    IReadOnlyDictionary<string, string> ConfigVars,
    IReadOnlyList<BuildpackReference>? Buildpacks = null,
    BuildpackTrust Trust = BuildpackTrust.Tenant)
{
    /// <summary>Build the pushed tree's own Dockerfile instead of running buildpacks (no buildpack chosen and a root Dockerfile).</summary>
    public bool Dockerfile { get; init; }

    /// <summary>The Dockerfile build's --build-arg values: the config vars app.json's `build.args` names.</summary>
    public IReadOnlyDictionary<string, string>? BuildArgs { get; init; }

    /// <summary>A prebuilt image to deploy (`paas deploy:image`): the source is then a one-line Dockerfile `FROM` it.</summary>
    public string? Image { get; init; }

    /// <summary>Credentials for pulling <see cref="Image"/>, used for that pull only (never stored or printed).</summary>
    public string? RegistryUsername { get; init; }

    public string? RegistryPassword { get; init; }
}
