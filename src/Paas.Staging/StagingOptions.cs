namespace Paas.Staging;

public sealed record StagingOptions(
    string StackImage,
    string BuildpacksDirectory,
    string CacheRoot,
    string ScratchRoot,
    string PlatformId)
{
    public long MemoryBytes { get; init; } = 1024L * 1024 * 1024;
    public TimeSpan TimeLimit { get; init; } = TimeSpan.FromMinutes(15);
    /// <summary>Build output past this many bytes is dropped (with a note) instead of streamed to the pusher.</summary>
    public long OutputLimitBytes { get; init; } = 8L * 1024 * 1024;
    /// <summary>The cell staging runs on, labelled on the container so that cell's agent can remove it if it died mid-stage.</summary>
    public string? Cell { get; init; }

    /// <summary>"90 seconds" or "15 minutes": how limits read in messages.</summary>
    public static string Describe(TimeSpan limit) =>
        limit.TotalSeconds < 120 ? $"{limit.TotalSeconds:0} seconds" : $"{limit.TotalMinutes:0.#} minutes";
}
