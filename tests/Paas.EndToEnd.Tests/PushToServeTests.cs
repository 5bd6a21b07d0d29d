using System.Net;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>The walking skeleton as a new user runs it: create, add the remote, push, curl, push again.</summary>
[Collection(PlatformCollection.Name)]
public sealed class PushToServeTests(PlatformFixture platform)
{
    private async Task<(string App, string WorkTree)> CreateAppWithRemoteAsync(string stem, string fixture)
    {
        var app = PlatformFixture.UniqueAppName(stem);
        var workTree = await platform.NewWorkTreeAsync(fixture);
        var created = await platform.PaasAsync(workTree, "apps:create", app);
        Assert.True(created.ExitCode == 0, created.ToString());
        var remote = await platform.PaasAsync(workTree, "git:remote", app);
        Assert.True(remote.ExitCode == 0, remote.ToString());
        return (app, workTree);
    }

    private async Task<string> BodyAsync(string app)
    {
        using var response = await platform.GetThroughRouterAsync(PlatformFixture.AppHost(app));
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    [Fact]
    public async Task StaticSite_PushServesIt_AndASecondPushReplacesItWithoutDowntime()
    {
        var (app, workTree) = await CreateAppWithRemoteAsync("static", "static");

        var push = await platform.GitAsync(workTree, "push", "paas", "main");

        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Contains("remote: -----> Static HTML app detected", push.Stderr);
        Assert.Contains("remote: -----> Released v2", push.Stderr);
        // Every live router acknowledged the route before the push said so.
        Assert.Contains("remote:        web.1 is routed", push.Stderr);
        Assert.Contains($"remote:        http://{app}.localhost:{platform.RouterPort}/ deployed to Paas", push.Stderr);
        Assert.Equal("200", (await BodyAsync(app))[..3]);
        // `paas open` prints the URL the push named (a browser opens only at a terminal), with a path if given.
        var open = AppUnderTest.Must(await platform.PaasAsync(workTree, "open", "-a", app));
        Assert.Equal($"http://{app}.localhost:{platform.RouterPort}/", open.Stdout.Trim());
        var openJson = AppUnderTest.Must(await platform.PaasAsync(workTree, "open", "admin/", "-a", app, "--json"));
        Assert.Equal($"http://{app}.localhost:{platform.RouterPort}/admin/", System.Text.Json.JsonDocument.Parse(openJson.Stdout).RootElement.GetProperty("url").GetString());
        Assert.Contains("Hello from static v1", await BodyAsync(app));

        // While the second push rolls out, a poller through the router must never see the app down.
        File.WriteAllText(Path.Combine(workTree, "index.html"), "<h1>Hello from static v2</h1>\n");
        await platform.CommitAllAsync(workTree, "v2");
        using var stopPolling = new CancellationTokenSource();
        var failures = new List<string>();
        var polls = 0;
        var poller = Task.Run(async () =>
        {
            while (!stopPolling.IsCancellationRequested && polls < 5000)
            {
                polls++;
                var body = await BodyAsync(app);
                if (!body.StartsWith("200", StringComparison.Ordinal))
                    failures.Add(body);
                await Task.Delay(20);
            }
        });
        var second = await platform.GitAsync(workTree, "push", "paas", "main");
        stopPolling.Cancel();
        await poller;

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("remote: -----> Released v3", second.Stderr);
        Assert.Contains("Hello from static v2", await BodyAsync(app));
        Assert.True(failures.Count == 0, $"{failures.Count} of {polls} requests failed during the rollout: {string.Join(" | ", failures.Take(3))}");
        var containers = await platform.ContainersAsync(app);
        var only = Assert.Single(containers);
        Assert.Equal("3", only.Labels["paas.release"]);
        Assert.Equal("web", only.Labels["paas.process"]);
    }

    [Fact]
    public async Task NodeApp_InstallsItsNpmDependency_AndServes()
    {
        var (app, workTree) = await CreateAppWithRemoteAsync("node", "node");

        var push = await platform.GitAsync(workTree, "push", "paas", "main");

        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Contains("remote: -----> Node.js app detected", push.Stderr);
        var body = await BodyAsync(app);
        Assert.StartsWith("200", body);
        Assert.Contains("Hello from node", body);
    }

    [Fact]
    public async Task PythonApp_WithProcfile_Serves()
    {
        var (app, workTree) = await CreateAppWithRemoteAsync("python", "python");

        var push = await platform.GitAsync(workTree, "push", "paas", "main");

        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Contains("remote: -----> Python app detected", push.Stderr);
        Assert.Contains("Hello from python", await BodyAsync(app));
        var releases = await platform.PaasAsync(null, "releases", "-a", app, "--json");
        Assert.Contains("\"version\": 1", releases.Stdout);
    }

    [Fact]
    public async Task FailedPushes_SayWhy_AndThePreviousReleaseKeepsServing()
    {
        var (app, workTree) = await CreateAppWithRemoteAsync("fails", "static");
        var first = await platform.GitAsync(workTree, "push", "paas", "main");
        Assert.True(first.ExitCode == 0, first.ToString());

        // Nothing any buildpack detects.
        ReplaceContents(workTree, "undetectable");
        await platform.CommitAllAsync(workTree, "undetectable");
        var undetected = await platform.GitAsync(workTree, "push", "paas", "main");
        Assert.NotEqual(0, undetected.ExitCode);
        Assert.Contains("No buildpack detected", undetected.Stderr);
        Assert.Contains("Hello from static v1", await BodyAsync(app));

        // Detected, but never listens on $PORT.
        ReplaceContents(workTree, "noport");
        await platform.CommitAllAsync(workTree, "noport");
        var noPort = await platform.GitAsync(workTree, "push", "paas", "main");
        Assert.NotEqual(0, noPort.ExitCode);
        Assert.Contains("did not listen on $PORT", noPort.Stderr);
        Assert.Contains("never became healthy", noPort.Stderr);
        Assert.Contains("Hello from static v1", await BodyAsync(app));

        // A compile step that fails: Python requirements with no way to install them here.
        ReplaceContents(workTree, "python");
        File.WriteAllText(Path.Combine(workTree, "requirements.txt"), "flask==3.0.0\n");
        await platform.CommitAllAsync(workTree, "needs pypi");
        var compileFails = await platform.GitAsync(workTree, "push", "paas", "main");
        Assert.NotEqual(0, compileFails.ExitCode);
        Assert.Contains("compile step failed", compileFails.Stderr);
        Assert.Contains("Hello from static v1", await BodyAsync(app));

        var containers = await platform.ContainersAsync(app);
        Assert.Equal("2", Assert.Single(containers).Labels["paas.release"]);
    }

    [Fact]
    public async Task PushToAnotherBranch_IsRefusedWithTheReason()
    {
        var (_, workTree) = await CreateAppWithRemoteAsync("branch", "static");

        var push = await platform.GitAsync(workTree, "push", "paas", "main:feature");

        Assert.NotEqual(0, push.ExitCode);
        Assert.Contains("Only the main or master branch deploys", push.Stderr);
    }

    private static void ReplaceContents(string workTree, string fixture)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(workTree).Where(e => Path.GetFileName(e) != ".git"))
        {
            if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
            else File.Delete(entry);
        }
        foreach (var file in Directory.EnumerateFiles(RepoPaths.Fixture(fixture), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(workTree, Path.GetRelativePath(RepoPaths.Fixture(fixture), file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
