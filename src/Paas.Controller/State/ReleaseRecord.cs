namespace Paas.Controller.State;

/// <summary>A deployed release: an immutable image plus the process types it runs.</summary>
public sealed record ReleaseRecord(
    string App,
    int Version,
    string Image,
    string Commit,
    string Buildpack,
    IReadOnlyDictionary<string, string> ProcessTypes,
    DateTimeOffset CreatedAt);
