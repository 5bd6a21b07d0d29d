using Docker.DotNet;

namespace Paas.Staging;

/// <summary>
/// Tells a staging failure caused by a full disk from any other, so the pusher reads that reason rather than
/// the symptom it caused (a compile step that failed, an engine error): our own writes fail with ENOSPC, the
/// engine says "no space left on device", and a buildpack that filled its cache just exits non-zero, which
/// only the free space left behind reveals.
/// </summary>
public static class DiskSpace
{
    /// <summary>Below this much free space a filesystem counts as full (a build cannot write a layer in it).</summary>
    public const long FullBelowBytes = 1024 * 1024;

    private const int NoSpaceErrno = 28; // ENOSPC

    public static bool IsNoSpace(Exception e) => e switch
    {
        DockerApiException api => (api.ResponseBody ?? api.Message).Contains("no space left on device", StringComparison.OrdinalIgnoreCase),
        IOException io => (io.HResult & 0xFFFF) == NoSpaceErrno || io.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <summary>The first of <paramref name="directories"/> whose filesystem is (nearly) full, or null; ones that do not exist are skipped.</summary>
    public static string? FirstFull(IEnumerable<string?> directories)
    {
        foreach (var directory in directories)
        {
            if (directory is null || !Directory.Exists(directory))
                continue;
            try
            {
                // On Unix DriveInfo asks statvfs about the path itself, so any directory names its own filesystem.
                if (new DriveInfo(directory).AvailableFreeSpace < FullBelowBytes)
                    return directory;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
            }
        }
        return null;
    }

    /// <summary>The one sentence a pusher reads when the staging cell's disk is full.</summary>
    public static string CellFull(string cell, string where) =>
        $"The cell ran out of disk space while staging ({cell}: {where} is full), so nothing was deployed; free space on it, then push again.";
}
