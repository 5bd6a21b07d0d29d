using System.Formats.Tar;
using Paas.Staging.Remote;

namespace Paas.Core.Tests.Staging;

/// <summary>The one format the controller sends a staging cell: what goes in comes out, and a tenant's buildpack cannot reach outside its directory.</summary>
public sealed class StagingBundleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("paas-bundle-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly StagingJob Job = new("web", 3, "abc123", new Dictionary<string, string> { ["SECRET"] = "s3cr3t" },
        [new StagedBuildpack("static", "static"), new StagedBuildpack("https://example.com/bp.tgz", null)], 90, 256L << 20, 1 << 20);

    private string Write(string path, string text, UnixFileMode? mode = null)
    {
        var full = Path.Combine(_dir, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
        if (mode is { } m)
            File.SetUnixFileMode(full, m);
        return full;
    }

    [Fact]
    public async Task RoundTrip_CarriesTheJob_TheSource_TheBuiltIns_AndEachFetchedBuildpackUnderItsIndex()
    {
        var source = Write("source.tar", "pretend tar");
        Write("builtins/order", "static\n");
        var compile = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        Write("builtins/static/bin/compile", "#!/bin/sh\n", compile);
        Write("fetched/bin/compile", "#!/bin/sh\necho custom\n", compile);
        File.CreateSymbolicLink(Path.Combine(_dir, "fetched", "bin", "build"), "compile");

        using var stream = new MemoryStream();
        await StagingBundle.WriteAsync(stream, Job, source, Path.Combine(_dir, "builtins"), [null, Path.Combine(_dir, "fetched")], CancellationToken.None);
        stream.Position = 0;
        var scratch = Directory.CreateDirectory(Path.Combine(_dir, "cell")).FullName;
        var (job, sourceTar, builtIns, custom) = await StagingBundle.ReadAsync(stream, scratch, CancellationToken.None);

        Assert.Equal(Job.App, job.App);
        Assert.Equal(Job.Release, job.Release);
        Assert.Equal("s3cr3t", job.ConfigVars["SECRET"]);
        Assert.Equal(Job.Buildpacks, job.Buildpacks);
        Assert.Equal(Job.TimeLimitSeconds, job.TimeLimitSeconds);
        Assert.Equal("pretend tar", await File.ReadAllTextAsync(sourceTar));
        Assert.Equal("static\n", await File.ReadAllTextAsync(Path.Combine(builtIns, "order")));
        Assert.True(File.GetUnixFileMode(Path.Combine(builtIns, "static", "bin", "compile")).HasFlag(UnixFileMode.OtherExecute));
        Assert.Equal("#!/bin/sh\necho custom\n", await File.ReadAllTextAsync(Path.Combine(custom, "1", "bin", "compile")));
        Assert.Equal("compile", new FileInfo(Path.Combine(custom, "1", "bin", "build")).LinkTarget);
        Assert.False(Directory.Exists(Path.Combine(custom, "0")));
    }

    [Fact]
    public async Task AFetchedBuildpacksSymlinkOutOfItsDirectory_IsNotMadeOnTheCell()
    {
        var source = Write("source.tar", "");
        Write("builtins/order", "");
        Write("fetched/bin/compile", "#!/bin/sh\n");
        // git clones keep whatever symlinks the repository has; on a cell they would point into the host.
        File.CreateSymbolicLink(Path.Combine(_dir, "fetched", "passwd"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(_dir, "fetched", "up"), "../../..");

        using var stream = new MemoryStream();
        await StagingBundle.WriteAsync(stream, Job, source, Path.Combine(_dir, "builtins"), [null, Path.Combine(_dir, "fetched")], CancellationToken.None);
        stream.Position = 0;
        var (_, _, _, custom) = await StagingBundle.ReadAsync(stream, Directory.CreateDirectory(Path.Combine(_dir, "cell")).FullName, CancellationToken.None);

        Assert.True(File.Exists(Path.Combine(custom, "1", "bin", "compile")));
        Assert.Null(new FileInfo(Path.Combine(custom, "1", "passwd")).LinkTarget);
        Assert.Null(new FileInfo(Path.Combine(custom, "1", "up")).LinkTarget);
    }

    [Fact]
    public async Task AnEntryThatClimbsOutOfTheBundle_IsRefused()
    {
        using var stream = new MemoryStream();
        await using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "custom/0/../../../escaped") { DataStream = new MemoryStream("x"u8.ToArray()) });
        }
        stream.Position = 0;
        var scratch = Directory.CreateDirectory(Path.Combine(_dir, "cell")).FullName;

        await Assert.ThrowsAsync<InvalidDataException>(() => StagingBundle.ReadAsync(stream, scratch, CancellationToken.None));
        Assert.False(File.Exists(Path.Combine(_dir, "escaped")));
    }
}
