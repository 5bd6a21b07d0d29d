using Paas.Controller.Git;
using Paas.Controller.State;

namespace Paas.Controller.Tests.State;

/// <summary>Config vars and source code stay root's: app containers run as uid 1000 on the same host.</summary>
public sealed class PrivateFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("paas-private-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Database_AndItsWal_AreReadableByTheOwnerOnly()
    {
        var path = Path.Combine(_dir, "paas.db");
        var db = new PlatformDatabase(path, TimeProvider.System);
        db.TryCreateApp("secretive", "admin", out _);

        foreach (var file in new[] { path, path + "-wal" })
        {
            Assert.True(File.Exists(file), $"{file} missing");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public void AnExistingWorldReadableDatabase_IsMadePrivateAtStart()
    {
        var path = Path.Combine(_dir, "old.db");
        _ = new PlatformDatabase(path, TimeProvider.System);
        File.SetUnixFileMode(path, (UnixFileMode)0b110_100_100);

        _ = new PlatformDatabase(path, TimeProvider.System);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void Repositories_AreInADirectoryOnlyTheOwnerCanEnter()
    {
        var root = Path.Combine(_dir, "repos");

        _ = new GitRepositories(root, Path.Combine(_dir, "hooks"));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(root));
    }
}
