namespace Paas.Staging;

/// <summary>What to stage: one app's source (a tar owned by the app user) at one commit.</summary>
public sealed record StagingRequest(
    string App,
    int Release,
    string SourceVersion,
    Func<Stream, CancellationToken, Task> WriteSourceTar,
    IReadOnlyDictionary<string, string> ConfigVars,
    IReadOnlyList<string>? Buildpacks = null);
