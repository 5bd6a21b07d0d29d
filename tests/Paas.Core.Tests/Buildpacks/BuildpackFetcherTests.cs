using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Paas.Staging;
using Paas.Staging.Buildpacks;

namespace Paas.Core.Tests.Buildpacks;

/// <summary>
/// Who may fetch what (the tenant-isolation rules), and the per-app cache. Runs real git, as root, as
/// `make test` does: the fetch itself runs as the unprivileged user.
/// </summary>
public sealed class BuildpackFetcherTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "paas-fetcher-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly BuildpackFetcher _fetcher;

    public BuildpackFetcherTests()
    {
        Directory.CreateDirectory(_root);
        _fetcher = new BuildpackFetcher(Path.Combine(_root, "cache"), new HttpClient(), new HttpClient(PublicNetwork.Handler()));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static Task Quiet(string line) => Task.CompletedTask;

    private static BuildpackReference Reference(string text) => BuildpackReference.Parse(text, out var problem) ?? throw new ArgumentException(problem);

    /// <summary>A git repository holding a minimal Heroku buildpack and one secret file.</summary>
    private string Repository(string name)
    {
        var dir = Path.Combine(_root, name);
        Directory.CreateDirectory(Path.Combine(dir, "bin"));
        File.WriteAllText(Path.Combine(dir, "bin", "compile"), "#!/bin/sh\n");
        File.WriteAllText(Path.Combine(dir, "secret.txt"), "hers\n");
        Git(dir, "init", "-q", "-b", "main");
        Git(dir, "add", "-A");
        Git(dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "buildpack");
        return dir;
    }

    private static void Git(string dir, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var git = Process.Start(start)!;
        git.WaitForExit();
        Assert.True(git.ExitCode == 0, git.StandardError.ReadToEnd());
    }

    [Fact]
    public async Task Tenant_FileUrl_IsRefused_AndNothingIsRead()
    {
        var hers = Repository("hers.git");

        var refused = await Assert.ThrowsAsync<StagingException>(() =>
            _fetcher.FetchAsync(Reference($"file://{hers}#main"), "his-app", BuildpackTrust.Tenant, Quiet, CancellationToken.None));

        Assert.Contains("only operators may use", refused.Message);
        Assert.Empty(Directory.EnumerateFiles(_root, "secret.txt", SearchOption.AllDirectories).Where(f => !f.StartsWith(hers)));
    }

    [Theory]
    [InlineData("http://127.0.0.1:{0}/buildpack.tgz")]
    [InlineData("http://127.0.0.1:{0}/buildpack.git")]
    [InlineData("http://localhost:{0}/buildpack.git")]
    [InlineData("http://[::1]:{0}/buildpack.tgz")]
    public async Task Tenant_LoopbackUrl_IsRefused_WithoutConnecting_AndSaysTheSameForAnOpenAndAClosedPort(string template)
    {
        using var open = new TcpListener(IPAddress.Loopback, 0);
        open.Start();
        var openPort = ((IPEndPoint)open.LocalEndpoint).Port;
        var closedPort = FreePort();

        var toOpen = await Assert.ThrowsAsync<StagingException>(() =>
            _fetcher.FetchAsync(Reference(string.Format(template, openPort)), "his-app", BuildpackTrust.Tenant, Quiet, CancellationToken.None));
        var toClosed = await Assert.ThrowsAsync<StagingException>(() =>
            _fetcher.FetchAsync(Reference(string.Format(template, closedPort)), "his-app", BuildpackTrust.Tenant, Quiet, CancellationToken.None));

        Assert.Contains("not a public address", toOpen.Message);
        Assert.False(open.Pending(), "the refused fetch connected to the loopback port");
        Assert.Equal(toOpen.Message.Replace(openPort.ToString(), "PORT"), toClosed.Message.Replace(closedPort.ToString(), "PORT"));
    }

    [Fact]
    public async Task Operator_FileUrl_IsFetched_PerApp_AndForgottenWithTheApp()
    {
        var repo = Repository("shared.git");
        var buildpack = Reference($"file://{repo}#main");

        var first = await _fetcher.FetchAsync(buildpack, "app-one", BuildpackTrust.Operator, Quiet, CancellationToken.None);
        var second = await _fetcher.FetchAsync(buildpack, "app-two", BuildpackTrust.Operator, Quiet, CancellationToken.None);
        _fetcher.ForgetApp("app-one");

        Assert.NotEqual(first, second);
        Assert.False(Directory.Exists(first));
        Assert.True(File.Exists(Path.Combine(second, "bin", "compile")));
    }

    [Fact]
    public async Task Fetch_RunsAsAnUnprivilegedUser_SoARootOnlyRepositoryCannotBeRead()
    {
        Assert.True(Environment.IsPrivilegedProcess, "these tests run as root, as `make test` does");
        var repo = Repository("private.git");
        File.SetUnixFileMode(repo, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var failed = await Assert.ThrowsAsync<StagingException>(() =>
            _fetcher.FetchAsync(Reference($"file://{repo}"), "app", BuildpackTrust.Operator, Quiet, CancellationToken.None));

        Assert.Contains("git clone failed", failed.Message);
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("140.82.112.3", true)]
    [InlineData("2606:4700::1111", true)]
    public void PublicNetwork_TellsPublicAddressesFromThePlatformsOwn(string address, bool isPublic) =>
        Assert.Equal(isPublic, PublicNetwork.IsPublic(IPAddress.Parse(address)));

    private static int FreePort() => Paas.Testing.TestPorts.Next();
}
