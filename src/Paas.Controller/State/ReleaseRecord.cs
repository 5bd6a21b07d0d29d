namespace Paas.Controller.State;

/// <summary>A deployed release: an immutable image, the process types it runs and the config it runs with.</summary>
public sealed record ReleaseRecord(
    string App,
    int Version,
    string Image,
    string Commit,
    string Buildpack,
    IReadOnlyDictionary<string, string> ProcessTypes,
    DateTimeOffset CreatedAt)
{
    /// <summary>The app's config vars as they were for this release (`paas config:set`, app.json env).</summary>
    public IReadOnlyDictionary<string, string> Config { get; init; } = new Dictionary<string, string>();

    /// <summary>The buildpack's config_vars: defaults that a config var of the same name overrides.</summary>
    public IReadOnlyDictionary<string, string> Defaults { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// The image as cells on other hosts pull it: its registry repository and digest
    /// (`registry:5000/paas/app-web@sha256:…`), when a registry is configured; null on a single host.
    /// </summary>
    public string? RegistryImage { get; init; }

    /// <summary>What a cell runs: the registry digest when there is one (so every host runs exactly this build), else the local tag.</summary>
    public string RunImage => RegistryImage ?? Image;

    /// <summary>What made this release, as `paas releases` shows it: "Deploy 1a2b3c4", "Set FOO config vars", "Rollback to v3".</summary>
    public string Description { get; init; } = "";

    /// <summary>
    /// False for a release without a build: v1 "Initial release", made when the app is created, and config changes
    /// before the first deploy, as Heroku records them. Such a release has no image, so it never runs and cannot be
    /// rolled back to; every release after the first build has one (config changes copy it, rollbacks need it).
    /// </summary>
    public bool HasBuild => Image.Length > 0;

    /// <summary>The release an app starts with (Heroku's "Initial release"): no build, no config vars.</summary>
    public static ReleaseRecord Initial(string app, int version, DateTimeOffset createdAt) =>
        new(app, version, "", "", "", new Dictionary<string, string>(), createdAt) { Description = "Initial release" };

    /// <summary>The environment every process of the release gets: buildpack defaults overlaid by config vars.</summary>
    public IReadOnlyDictionary<string, string> Environment
    {
        get
        {
            var environment = new Dictionary<string, string>(Defaults, StringComparer.Ordinal);
            foreach (var (name, value) in Config)
                environment[name] = value;
            return environment;
        }
    }
}
