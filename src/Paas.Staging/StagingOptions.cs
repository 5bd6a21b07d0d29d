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
}
