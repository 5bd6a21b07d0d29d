using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using Paas.Staging;
using Paas.Staging.Buildpacks;

namespace Paas.Core.Tests.Buildpacks;

/// <summary>
/// The buildpack cache as an operator lives with it: tarballs are extracted without letting anything out of
/// the cache, oversize downloads are refused, a branch is fetched again after <see cref="BuildpackFetcher.Refresh"/>
/// while a pinned commit never is, and a fetch that fails falls back to the copy fetched earlier.
/// </summary>
public sealed class BuildpackCacheTests : IDisposable
{
    // World-traversable like the platform's data directory: the fetch runs as an unprivileged user.
    private readonly string _root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "paas-bpcache-" + Guid.NewGuid().ToString("N")[..8])).FullName;
    private readonly ManualClock _clock = new();
    private readonly List<string> _output = [];

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 3, 8, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private sealed class Answer(Func<HttpResponseMessage> respond) : HttpMessageHandler
    {
        public int Calls { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Calls++;
            return Task.FromResult(respond());
        }
    }

    private BuildpackFetcher Fetcher(HttpMessageHandler? operatorHttp = null) =>
        new(Path.Combine(_root, "cache"), new HttpClient(operatorHttp ?? new HttpClientHandler()), new HttpClient(PublicNetwork.Handler()), time: _clock);

    private Task<string> FetchAsync(BuildpackFetcher fetcher, string reference) =>
        fetcher.FetchAsync(BuildpackReference.Parse(reference, out _)!, "shop", BuildpackTrust.Operator, line => { _output.Add(line); return Task.CompletedTask; }, CancellationToken.None);

    private static byte[] Tarball(Action<TarWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
            write(tar);
        return buffer.ToArray();
    }

    private static void File(TarWriter tar, string name, string text) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)) });

    private static HttpResponseMessage Ok(byte[] body) => new(HttpStatusCode.OK) { Content = new ByteArrayContent(body) };

    [Fact]
    public async Task ASymlinkOutOfTheBuildpack_IsNotExtracted_AndTheRestIs()
    {
        var tarball = Tarball(tar =>
        {
            File(tar, "bp/bin/compile", "#!/bin/sh\n");
            tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "bp/bin/passwd") { LinkName = "/etc/passwd" });
            tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "bp/bin/up") { LinkName = "../../../../outside" });
            tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "bp/bin/detect") { LinkName = "compile" });
        });

        var dir = await FetchAsync(Fetcher(new Answer(() => Ok(tarball))), "https://buildpacks.example/bp.tgz");

        Assert.True(System.IO.File.Exists(Path.Combine(dir, "bin", "compile")));
        Assert.False(Path.Exists(Path.Combine(dir, "bin", "passwd")));
        Assert.False(Path.Exists(Path.Combine(dir, "bin", "up")));
        Assert.Equal("compile", new FileInfo(Path.Combine(dir, "bin", "detect")).LinkTarget);
    }

    [Fact]
    public async Task APathThatLeavesTheArchive_RefusesTheBuildpack_AndWritesNothingOutside()
    {
        var tarball = Tarball(tar =>
        {
            File(tar, "bin/compile", "#!/bin/sh\n");
            File(tar, "bin/../../../escaped.txt", "out\n");
        });

        var refused = await Assert.ThrowsAsync<StagingException>(() => FetchAsync(Fetcher(new Answer(() => Ok(tarball))), "https://buildpacks.example/bp.tgz"));

        Assert.Contains("is not a valid .tgz archive", refused.Message);
        Assert.Empty(Directory.GetFiles(_root, "escaped.txt", SearchOption.AllDirectories));
        Assert.False(System.IO.File.Exists(Path.Combine(Path.GetDirectoryName(_root)!, "escaped.txt")));
    }

    [Fact]
    public async Task AnAbsoluteName_RefusesTheBuildpack_AndWritesNothingThere()
    {
        var name = "/tmp/paas-bpcache-abs-" + Guid.NewGuid().ToString("N")[..8];
        var tarball = Tarball(tar =>
        {
            File(tar, "bin/compile", "#!/bin/sh\n");
            File(tar, name, "abs\n");
        });

        var refused = await Assert.ThrowsAsync<StagingException>(() => FetchAsync(Fetcher(new Answer(() => Ok(tarball))), "https://buildpacks.example/bp.tgz"));

        Assert.Contains("is not a valid .tgz archive", refused.Message);
        Assert.False(System.IO.File.Exists(name));
    }

    [Fact]
    public async Task ADownloadLargerThanTheCap_IsRefusedBeforeItIsRead()
    {
        var answer = new Answer(() =>
        {
            var response = Ok([]);
            response.Content.Headers.ContentLength = 201L * 1024 * 1024;
            return response;
        });

        var refused = await Assert.ThrowsAsync<StagingException>(() => FetchAsync(Fetcher(answer), "https://buildpacks.example/huge.tgz"));

        Assert.Contains("is larger than 200 MB", refused.Message);
    }

    [Fact]
    public async Task ABranch_IsFetchedAgainAfterTheRefresh_NotBefore()
    {
        var repo = Repository("branch.git", "one");
        var fetcher = Fetcher();

        var first = await FetchAsync(fetcher, $"file://{repo}#main");
        Commit(repo, "two");
        _clock.Now += BuildpackFetcher.Refresh - TimeSpan.FromMinutes(1);
        var cached = await FetchAsync(fetcher, $"file://{repo}#main");
        _clock.Now += TimeSpan.FromMinutes(2);
        var refreshed = await FetchAsync(fetcher, $"file://{repo}#main");

        Assert.Equal(first, cached);
        Assert.Contains(_output, l => l.EndsWith("(cached)", StringComparison.Ordinal));
        Assert.Equal("two\n", System.IO.File.ReadAllText(Path.Combine(refreshed, "version.txt")));
    }

    [Fact]
    public async Task APinnedCommit_IsNeverFetchedAgain()
    {
        var repo = Repository("pinned.git", "one");
        var commit = Head(repo);
        var fetcher = Fetcher();

        await FetchAsync(fetcher, $"file://{repo}#{commit}");
        Directory.Delete(repo, recursive: true);
        _clock.Now += TimeSpan.FromDays(30);
        var again = await FetchAsync(fetcher, $"file://{repo}#{commit}");

        Assert.Equal("one\n", System.IO.File.ReadAllText(Path.Combine(again, "version.txt")));
        Assert.EndsWith("(cached)", _output[^1]);
    }

    [Fact]
    public async Task AFetchThatFails_FallsBackToTheCopyFetchedEarlier_AndSaysSo()
    {
        var repo = Repository("gone.git", "one");
        var fetcher = Fetcher();

        await FetchAsync(fetcher, $"file://{repo}#main");
        Directory.Delete(repo, recursive: true);
        _clock.Now += BuildpackFetcher.Refresh + TimeSpan.FromMinutes(1);
        var fallback = await FetchAsync(fetcher, $"file://{repo}#main");

        Assert.Equal("one\n", System.IO.File.ReadAllText(Path.Combine(fallback, "version.txt")));
        Assert.Contains(_output, l => l.Contains("Using the copy fetched earlier", StringComparison.Ordinal));
    }

    private string Repository(string name, string version)
    {
        var dir = Path.Combine(_root, name);
        Directory.CreateDirectory(Path.Combine(dir, "bin"));
        System.IO.File.WriteAllText(Path.Combine(dir, "bin", "compile"), "#!/bin/sh\n");
        Git(dir, "init", "-q", "-b", "main");
        Commit(dir, version);
        return dir;
    }

    private static void Commit(string dir, string version)
    {
        System.IO.File.WriteAllText(Path.Combine(dir, "version.txt"), version + "\n");
        Git(dir, "add", "-A");
        Git(dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", version);
    }

    private static string Head(string dir) => Git(dir, "rev-parse", "HEAD").Trim();

    private static string Git(string dir, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var git = Process.Start(start)!;
        var output = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        Assert.True(git.ExitCode == 0, git.StandardError.ReadToEnd());
        return output;
    }
}
