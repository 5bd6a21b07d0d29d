using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// Buildpacks to Heroku's standard, through real pushes: custom buildpacks by git and tarball URL,
/// multi-buildpack with `export`, `.profile.d`, the build cache, the release phase, app.json, limits,
/// failures that name the buildpack, and image pruning. Fixture buildpacks: tests/fixtures/buildpacks.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class BuildpackTests(PlatformFixture platform)
{
    private async Task<(string App, string WorkTree)> CreateAppAsync(string stem, string fixture)
    {
        var app = PlatformFixture.UniqueAppName(stem);
        var workTree = await platform.NewWorkTreeAsync(fixture);
        AppUnderTest.Must(await platform.PaasAsync(workTree, "apps:create", app));
        AppUnderTest.Must(await platform.PaasAsync(workTree, "git:remote", app));
        return (app, workTree);
    }

    /// <summary>A git repository holding a copy of a fixture buildpack, committed on main; returns its directory.</summary>
    private Task<string> BuildpackRepoAsync(string buildpack) => platform.BuildpackRepoAsync(buildpack);

    private Task<ProcessResult> PushAsync(string workTree) => platform.GitAsync(workTree, "push", "paas", "main");

    private async Task<string> BodyAsync(string app)
    {
        using var response = await platform.GetThroughRouterAsync(PlatformFixture.AppHost(app));
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    [Fact]
    public async Task CustomBuildpack_FromAGitUrlWithRef_CompilesThatRef()
    {
        var repo = await BuildpackRepoAsync("versioned");
        AppUnderTest.Must(await platform.GitAsync(repo, "tag", "v1"));
        File.WriteAllText(Path.Combine(repo, "VERSION"), "v2\n");
        await platform.CommitAllAsync(repo, "v2");
        var (app, workTree) = await CreateAppAsync("bp-git", "envecho");
        File.WriteAllText(Path.Combine(workTree, ".buildpacks"), $"# pinned\nfile://{repo}#v1\n");
        await platform.CommitAllAsync(workTree, "use the versioned buildpack at v1");

        var push = await PushAsync(workTree);

        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Contains($"remote: -----> Fetching buildpack file://{repo}#v1", push.Stderr);
        Assert.Contains("remote: -----> Versioned buildpack v1 compiling", push.Stderr);
        Assert.Contains("compiled=versioned v1", await BodyAsync(app));

        // Without the ref, the default branch (v2) is used.
        File.WriteAllText(Path.Combine(workTree, ".buildpacks"), $"file://{repo}\n");
        await platform.CommitAllAsync(workTree, "follow main");
        var second = await PushAsync(workTree);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("remote: -----> Versioned buildpack v2 compiling", second.Stderr);
        Assert.Contains("compiled=versioned v2", await BodyAsync(app));
    }

    [Fact]
    public async Task CustomBuildpack_FromATarballUrl_IsFetchedByTheControllerAndRuns()
    {
        var archive = TarballOf(Path.Combine(RepoPaths.Root, "tests", "fixtures", "buildpacks", "versioned"), "versioned-main");
        using var server = new TarballServer(archive);
        var (app, workTree) = await CreateAppAsync("bp-tgz", "envecho");

        var set = await platform.PaasAsync(workTree, "buildpacks:set", server.Url, "-a", app);
        var list = await platform.PaasAsync(workTree, "buildpacks", "-a", app);
        var push = await PushAsync(workTree);

        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Contains($"1. {server.Url}", list.Stdout);
        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Contains($"remote: -----> Buildpacks from the app's settings: {server.Url}", push.Stderr);
        Assert.Contains("remote: -----> Versioned buildpack v1 compiling", push.Stderr);
        Assert.Contains("compiled=versioned v1", await BodyAsync(app));
        Assert.True(server.Requests >= 1);
    }

    [Fact]
    public async Task MultiBuildpack_LaterBuildpackSeesTheExport_AndProfileDIsSourcedAtStart()
    {
        var exporter = await BuildpackRepoAsync("exporter");
        var consumer = await BuildpackRepoAsync("consumer");
        var (app, workTree) = await CreateAppAsync("bp-multi", "envecho");
        File.WriteAllText(Path.Combine(workTree, ".buildpacks"), $"file://{exporter}\nfile://{consumer}\n");
        await platform.CommitAllAsync(workTree, "two buildpacks");

        var push = await PushAsync(workTree);

        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Contains("remote: -----> Exporter app detected", push.Stderr);
        Assert.Contains("remote:        Using the environment exported by the Exporter buildpack", push.Stderr);
        Assert.Contains("remote: -----> Consumer sees: greet ran, exported by the exporter", push.Stderr);
        var body = await BodyAsync(app);
        Assert.StartsWith("200", body);
        Assert.Contains("compiled=greet ran, exported by the exporter", body);
        // .profile.d/consumer.sh ran before the process, with HOME=/app as on Heroku.
        Assert.Contains("PROFILE_GREETING=set by .profile.d", body);
        Assert.Contains("PROFILE_HOME=/app", body);
        // The last buildpack's config_vars reach the release.
        Assert.Contains("FROM_BUILDPACK=consumer default", body);
    }

    [Fact]
    public async Task BuildCache_IsReusedOnTheSecondPush_AndPurgeEmptiesIt()
    {
        var repo = await BuildpackRepoAsync("cached-tool");
        var (app, workTree) = await CreateAppAsync("bp-cache", "envecho");
        AppUnderTest.Must(await platform.PaasAsync(workTree, "buildpacks:add", $"file://{repo}", "-a", app));

        var cold = await PushAsync(workTree);
        File.AppendAllText(Path.Combine(workTree, "README.txt"), "a change that keeps the dependencies\n");
        await platform.CommitAllAsync(workTree, "second");
        var warm = await PushAsync(workTree);

        Assert.True(cold.ExitCode == 0, cold.ToString());
        Assert.Contains("remote: -----> Building the tool (no cache yet", cold.Stderr);
        Assert.True(warm.ExitCode == 0, warm.ToString());
        Assert.Contains("remote: -----> Reusing the cached tool from the previous build", warm.Stderr);
        // The compile step's own duration, as the stage driver reports it: whole pushes vary with machine load.
        var coldSeconds = CompileSeconds(cold.Stderr);
        var warmSeconds = CompileSeconds(warm.Stderr);
        Assert.True(coldSeconds >= 5 && warmSeconds < coldSeconds - 3, $"warm compile took {warmSeconds:0.0} s, cold {coldSeconds:0.0} s");

        var purge = await platform.PaasAsync(workTree, "builds:cache:purge", "-a", app);
        Assert.True(purge.ExitCode == 0, purge.ToString());
        Assert.Contains("purged", purge.Stdout);
        File.AppendAllText(Path.Combine(workTree, "README.txt"), "third\n");
        await platform.CommitAllAsync(workTree, "third");
        var afterPurge = await PushAsync(workTree);
        Assert.True(afterPurge.ExitCode == 0, afterPurge.ToString());
        Assert.Contains("remote: -----> Building the tool (no cache yet", afterPurge.Stderr);
    }

    [Fact]
    public async Task ReleasePhase_RunsBeforeRollout_AndAFailureKeepsTheOldReleaseServing()
    {
        var (app, workTree) = await CreateAppAsync("bp-release", "envecho");
        File.WriteAllText(Path.Combine(workTree, "Procfile"), "web: python3 server.py\nrelease: echo \"migrating with $PROFILE_GREETING-less env on $DYNO\"\n");
        await platform.CommitAllAsync(workTree, "release phase");

        var push = await PushAsync(workTree);

        Assert.True(push.ExitCode == 0, push.ToString());
        var stderr = push.Stderr;
        Assert.Contains("remote: -----> Running release command:", stderr);
        Assert.Contains("remote:        migrating with -less env on release.1", stderr);
        // Both present, then in order: IndexOf alone would pass with the first missing (-1).
        var succeeded = stderr.IndexOf("Release command succeeded", StringComparison.Ordinal);
        var launching = stderr.IndexOf("Launching v2", StringComparison.Ordinal);
        Assert.True(succeeded >= 0 && launching >= 0, stderr);
        Assert.True(succeeded < launching, stderr);
        var instances = await new AppUnderTest(platform, app, workTree).InstancesAsync();
        Assert.All(instances, i => Assert.Equal("web", i.GetProperty("process").GetString()));

        File.WriteAllText(Path.Combine(workTree, "Procfile"), "web: python3 server.py\nrelease: echo failing on purpose; exit 3\n");
        await platform.CommitAllAsync(workTree, "a failing release command");
        var failing = await PushAsync(workTree);

        Assert.NotEqual(0, failing.ExitCode);
        Assert.Contains("remote:        failing on purpose", failing.Stderr);
        Assert.Contains("remote:  !     Push rejected: The release command failed with exit code 3, so v3 was not deployed.", failing.Stderr);
        Assert.DoesNotContain("Launching v3", failing.Stderr);
        Assert.StartsWith("200", await BodyAsync(app));
        var containers = await platform.ContainersAsync(app);
        Assert.All(containers, c => Assert.Equal("2", c.Labels["paas.release"]));
    }

    [Fact]
    public async Task AppJson_FormationEnvAndSecret_AreAppliedOnTheFirstDeploy()
    {
        var (app, workTree) = await CreateAppAsync("bp-appjson", "envecho");
        File.WriteAllText(Path.Combine(workTree, "app.json"), """
            {
              "name": "envecho",
              "env": {
                "GREETING": { "description": "shown by the app", "value": "hello from app.json" },
                "SECRET_KEY": { "generator": "secret" }
              },
              "formation": { "web": { "quantity": 2 } },
              "healthchecks": { "web": [{ "type": "startup", "path": "/", "timeout": 2, "attempts": 10 }] }
            }
            """);
        await platform.CommitAllAsync(workTree, "app.json");
        var under = new AppUnderTest(platform, app, workTree);

        var push = await PushAsync(workTree);

        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Contains("remote: -----> Launching v2 (2 instances)", push.Stderr);
        var instances = await under.InstancesAsync();
        Assert.Equal(2, instances.Count(i => i.GetProperty("process").GetString() == "web"));
        var body = await BodyAsync(app);
        Assert.Contains("GREETING=hello from app.json", body);
        var secret = Regex.Match(body, "SECRET_KEY=([0-9a-f]*)").Groups[1].Value;
        Assert.Equal(64, secret.Length);

        // The generated secret survives the next deploy; the formation stays as scaled.
        File.AppendAllText(Path.Combine(workTree, "README.txt"), "v2\n");
        await platform.CommitAllAsync(workTree, "v2");
        var second = await PushAsync(workTree);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains($"SECRET_KEY={secret}", await BodyAsync(app));

        // app.json's env became config vars; one the user sets wins over app.json on later deploys.
        var config = AppUnderTest.Must(await under.PaasAsync("config"));
        Assert.Contains($"SECRET_KEY: {secret}", config.Stdout);
        AppUnderTest.Must(await under.PaasAsync("config:set", "GREETING=set by the user"));
        File.AppendAllText(Path.Combine(workTree, "README.txt"), "v3\n");
        await platform.CommitAllAsync(workTree, "v3");
        var third = await PushAsync(workTree);
        Assert.True(third.ExitCode == 0, third.ToString());
        var afterThird = await BodyAsync(app);
        Assert.Contains("GREETING=set by the user", afterThird);
        Assert.Contains($"SECRET_KEY={secret}", afterThird);
    }

    [Fact]
    public async Task BuildpackUrlConfigVar_ChoosesTheBuildpack()
    {
        var repo = await BuildpackRepoAsync("versioned");
        var (app, workTree) = await CreateAppAsync("bp-url", "envecho");
        var set = await platform.PaasAsync(workTree, "config:set", $"BUILDPACK_URL=file://{repo}", "-a", app);

        var push = await PushAsync(workTree);

        Assert.Contains("done, v2 (not deployed yet", set.Stdout);
        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Contains($"remote: -----> Buildpacks from BUILDPACK_URL: file://{repo}", push.Stderr);
        Assert.Contains("compiled=versioned v1", await BodyAsync(app));
    }

    [Fact]
    public async Task Failures_NameTheBuildpack_AndTheCliRefusesBadBuildpacks()
    {
        var (app, workTree) = await CreateAppAsync("bp-fail", "envecho");

        var bad = await platform.PaasAsync(workTree, "buildpacks:add", "ftp://example.com/bp.git", "-a", app);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("'ftp://example.com/bp.git' is not a buildpack: use a built-in name or an https, http or file URL.", bad.Stderr);
        var unknown = await platform.PaasAsync(workTree, "buildpacks:set", "ruby", "-a", app);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("'ruby' is not a built-in buildpack", unknown.Stderr);

        var missing = $"file://{platform.DataDirectory}/no-such-buildpack.git";
        var broken = $"file://{await BuildpackRepoAsync("broken")}";
        var badRelease = $"file://{await BuildpackRepoAsync("bad-release")}";
        var versioned = $"file://{await BuildpackRepoAsync("versioned")}";
        var cases = new (string Buildpack, string Fixture, string Message)[]
        {
            (missing, "envecho", $"Push rejected: The buildpack {missing} could not be fetched: git clone failed"),
            (broken, "envecho", $"Push rejected: The {broken} buildpack's compile step failed (see its output above)."),
            (badRelease, "envecho", $"Push rejected: The {badRelease} buildpack's bin/release printed YAML that does not parse"),
            (versioned, "static", $"Push rejected: The {versioned} buildpack does not apply to this app: its bin/detect did not recognise it."),
        };
        foreach (var (buildpack, fixture, message) in cases)
        {
            var tree = await platform.NewWorkTreeAsync(fixture);
            AppUnderTest.Must(await platform.PaasAsync(tree, "git:remote", app));
            AppUnderTest.Must(await platform.PaasAsync(tree, "buildpacks:set", buildpack, "-a", app));
            var push = await PushAsync(tree);
            Assert.True(push.ExitCode != 0, push.ToString());
            Assert.Contains(message, push.Stderr);
        }
        Assert.Empty(await platform.ContainersAsync(app));
    }

    [Fact]
    public async Task StagingLimits_AHangingBuildpackIsKilled_AndAnOversizedPushIsRefused()
    {
        var hang = await BuildpackRepoAsync("hang");
        var (app, workTree) = await CreateAppAsync("bp-hang", "envecho");
        File.WriteAllText(Path.Combine(workTree, ".buildpacks"), $"file://{hang}\n");
        await platform.CommitAllAsync(workTree, "a buildpack that hangs");
        var (big, bigTree) = await CreateAppAsync("bp-big", "static");
        File.WriteAllBytes(Path.Combine(bigTree, "blob.bin"), RandomBytes(3 * 1024 * 1024));
        await platform.CommitAllAsync(bigTree, "3 MB");

        platform.StopController();
        try
        {
            await platform.StartControllerAsync(new Dictionary<string, string>
            {
                ["PAAS_STAGING_TIMEOUT_SECONDS"] = "5",
                ["PAAS_MAX_PUSH_MB"] = "2",
            });
            var clock = Stopwatch.StartNew();
            var push = await PushAsync(workTree);
            var seconds = clock.Elapsed.TotalSeconds;
            var oversized = await PushAsync(bigTree);

            Assert.NotEqual(0, push.ExitCode);
            Assert.Contains("remote: -----> Hanging forever", push.Stderr);
            Assert.Contains($"Push rejected: The file://{hang} buildpack was still running when staging reached its limit of 5 seconds, so it was stopped.", push.Stderr);
            Assert.True(seconds < 120, $"the push took {seconds:0.0} s");
            Assert.Empty(await platform.ContainersAsync(app));
            Assert.NotEqual(0, oversized.ExitCode);
            Assert.Contains("Push rejected: The pushed source is more than 2 MB, the limit (PAAS_MAX_PUSH_MB); remove large files from the repository.", oversized.Stderr);
            Assert.Empty(await platform.ContainersAsync(big));
        }
        finally
        {
            platform.StopController();
            await platform.StartControllerAsync();
        }
    }

    [Fact]
    public async Task OldImages_ArePrunedBeyondTheLastFive_AndDestroyRemovesImagesCacheAndRepository()
    {
        var (app, workTree) = await CreateAppAsync("bp-prune", "static");
        for (var round = 1; round <= 7; round++)
        {
            if (round > 1)
            {
                File.WriteAllText(Path.Combine(workTree, "index.html"), $"<h1>round {round}</h1>\n");
                await platform.CommitAllAsync(workTree, $"round {round}");
            }
            var push = await PushAsync(workTree);
            Assert.True(push.ExitCode == 0, push.ToString());
        }

        var tags = await ImageTagsAsync(app);
        // v1 is the app's "Initial release" (no image); the pushes are v2 to v8.
        Assert.Equal(["v4", "v5", "v6", "v7", "v8"], tags);
        var releases = await platform.PaasAsync(workTree, "releases", "-a", app);
        Assert.Contains("v2 ", releases.Stdout);
        Assert.Contains("round 7", await BodyAsync(app));
        Assert.True(Directory.Exists(Path.Combine(platform.DataDirectory, "cache", app)));

        var destroy = await platform.PaasAsync(workTree, "apps:destroy", "-a", app, "--confirm", app);

        Assert.True(destroy.ExitCode == 0, destroy.ToString());
        Assert.Empty(await ImageTagsAsync(app));
        Assert.False(Directory.Exists(Path.Combine(platform.DataDirectory, "cache", app)));
        Assert.False(Directory.Exists(Path.Combine(platform.DataDirectory, "repos", app + ".git")));
        Assert.Empty(await platform.ContainersAsync(app));
    }

    private static double CompileSeconds(string pushOutput) =>
        double.Parse(Regex.Match(pushOutput, @"Cached Tool compile took ([0-9.]+) s").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<List<string>> ImageTagsAsync(string app)
    {
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        var images = await docker.Images.ListImagesAsync(new ImagesListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["reference"] = new Dictionary<string, bool> { [$"paas/app-{app}"] = true } },
        });
        return images.SelectMany(i => i.RepoTags ?? []).Select(t => t[(t.LastIndexOf(':') + 1)..])
            .OrderBy(t => int.Parse(t[1..])).ToList();
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A GitHub-style .tgz: everything under one top-level directory, modes kept.</summary>
    private static byte[] TarballOf(string directory, string topLevel)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order())
                tar.WriteEntry(file, $"{topLevel}/{Path.GetRelativePath(directory, file)}");
        }
        return buffer.ToArray();
    }

    /// <summary>Serves one .tgz on 127.0.0.1 (the controller host fetches buildpacks; staging containers fetch nothing).</summary>
    private sealed class TarballServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private int _requests;

        public TarballServer(byte[] archive)
        {
            var port = FreePort.Next();
            Url = $"http://127.0.0.1:{port}/buildpacks/versioned.tgz";
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                    {
                        return;
                    }
                    Interlocked.Increment(ref _requests);
                    context.Response.ContentType = "application/gzip";
                    context.Response.ContentLength64 = archive.Length;
                    await context.Response.OutputStream.WriteAsync(archive);
                    context.Response.Close();
                }
            });
        }

        public string Url { get; }

        public int Requests => _requests;

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
        }
    }
}
