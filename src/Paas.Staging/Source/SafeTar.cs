using System.Formats.Tar;

namespace Paas.Staging.Source;

/// <summary>
/// Extraction of archives whose content a tenant controls (a buildpack tarball, a fetched buildpack sent to a
/// staging cell): regular files, directories and inward symlinks only, and nothing may land outside the
/// target directory, whoever extracts it (the controller, or a cell agent running as root).
/// </summary>
public static class SafeTar
{
    /// <summary>The entry's path relative to the archive root, or null when it is the root itself; throws <see cref="InvalidDataException"/> for a path that leaves the archive.</summary>
    public static string? RelativeName(TarEntry entry)
    {
        var name = entry.Name.Replace('\\', '/').TrimStart('.', '/');
        if (entry.Name.StartsWith('/') || name.Split('/').Contains(".."))
            throw new InvalidDataException("entry outside the archive");
        return name.Length == 0 ? null : name;
    }

    /// <summary>Writes one entry (named <paramref name="name"/> relative to <paramref name="dir"/>, see <see cref="RelativeName"/>); hard links, devices and escaping symlinks are skipped.</summary>
    public static async Task ExtractEntryAsync(TarEntry entry, string name, string dir, CancellationToken cancellationToken)
    {
        var path = Path.Combine(dir, name);
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                Directory.CreateDirectory(path);
                break;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await using (var file = File.Create(path))
                    if (entry.DataStream is not null)
                        await entry.DataStream.CopyToAsync(file, cancellationToken);
                File.SetUnixFileMode(path, (entry.Mode & (UnixFileMode)0x1FF) | UnixFileMode.UserRead | UnixFileMode.UserWrite);
                break;
            case TarEntryType.SymbolicLink when PushedSource.SymlinkStaysInside(name.TrimEnd('/'), entry.LinkName):
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.CreateSymbolicLink(path, entry.LinkName);
                break;
            default:
                // Hard links, devices, escaping symlinks: a buildpack has no use for them.
                break;
        }
    }
}
