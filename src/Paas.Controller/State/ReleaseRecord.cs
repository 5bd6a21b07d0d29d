namespace Paas.Controller.State;

/// <summary>A deployed release: an immutable image plus the process types it runs.</summary>
public sealed record ReleaseRecord(
    string App,
    int Version,
    string Image,
    string Commit,
    string Buildpack,
    IReadOnlyDictionary<string, string> ProcessTypes,
    DateTimeOffset CreatedAt)
{
    /// <summary>Environment every process of this release gets (app.json env, buildpack config_vars).</summary>
    public IReadOnlyDictionary<string, string> Config { get; init; } = new Dictionary<string, string>();
}
