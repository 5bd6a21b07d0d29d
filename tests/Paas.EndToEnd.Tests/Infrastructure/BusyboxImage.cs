using System.Formats.Tar;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A 2 MB image made on the spot, with no registry involved: Debian's static /bin/busybox and one page, served by
/// <c>busybox httpd</c> on <see cref="Port"/>. Small enough that moving it between hosts costs well under a second.
/// </summary>
public static class BusyboxImage
{
    public const int Port = 8080;

    /// <summary>Imports the image into <paramref name="engine"/> as repository:tag (returned), serving <paramref name="page"/> at /.</summary>
    public static async Task<string> ImportAsync(IDockerClient engine, string repository, string tag, string page)
    {
        using var rootfs = new MemoryStream();
        using (var tar = new TarWriter(rootfs, TarEntryFormat.Pax, leaveOpen: true))
        {
            await tar.WriteEntryAsync(Directory("bin/"));
            await tar.WriteEntryAsync(Directory("www/"));
            await tar.WriteEntryAsync("/bin/busybox", "bin/busybox");
            var index = new PaxTarEntry(TarEntryType.RegularFile, "www/index.html")
            {
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(page)),
            };
            await tar.WriteEntryAsync(index);
        }
        rootfs.Position = 0;
        var progress = new DockerProgress();
        await engine.Images.CreateImageAsync(
            new ImagesCreateParameters
            {
                FromSrc = "-",
                Repo = repository,
                Tag = tag,
                Changes = [$"""CMD ["/bin/busybox", "httpd", "-f", "-p", "{Port}", "-h", "/www"]""", $"EXPOSE {Port}/tcp"],
            },
            rootfs, null, progress);
        progress.ThrowIfFailed($"Importing {repository}:{tag}");
        return $"{repository}:{tag}";
    }

    private static PaxTarEntry Directory(string name) => new(TarEntryType.Directory, name)
    {
        Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
    };
}
