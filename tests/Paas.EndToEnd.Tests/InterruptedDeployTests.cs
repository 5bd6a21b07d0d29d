using System.Diagnostics;
using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// A controller SIGKILLed in the middle of a push (the fixture then starts it again, as the supervisor
/// would): the deploy is resumed or rolled back, never left half-done, `paas releases` says which, and a
/// request loop through the router sees no failure throughout.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class InterruptedDeployTests(PlatformFixture platform, ITestOutputHelper output)
{
    /// <summary>How long a resumed or rolled-back deploy may take to settle after the controller is back.</summary>
    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task ControllerKilledDuringTheRollout_TheDeployIsResumedAfterTheRestart_WithNoFailedRequest()
    {
        var (app, workTree) = await DeployedAppAsync("resume");
        await using var loop = RequestLoop.Start(platform, app);

        var push = PushVersionTwoAsync(workTree);
        var phase = await KillWhenAsync(app, "rolling");
        var (status, text) = await SettledAsync(app, push);

        Assert.True(status.GetProperty("status").GetString() == "released" && status.GetProperty("resumed").GetBoolean(),
            $"v2 after a kill during its {phase}: {status}\n{text}\n{platform.ControllerOutput}");
        Assert.Contains("released, resumed after a controller restart", text);
        await loop.WaitForAsync("Hello from v2", TimeSpan.FromSeconds(30));
        var (requests, failures) = await loop.StopAsync();
        output.WriteLine($"resumed: {requests} requests through the router, {failures.Count} failed");
        Assert.True(failures.Count == 0, $"{failures.Count} of {requests} requests failed: {string.Join("; ", failures.Take(5))}");
    }

    [Fact]
    public async Task ControllerKilledDuringTheRollout_WithTheNewImageGoneOnRestart_IsRolledBack_AndTheOldReleaseServes()
    {
        var (app, workTree) = await DeployedAppAsync("rollback");
        await using var loop = RequestLoop.Start(platform, app);

        var push = PushVersionTwoAsync(workTree);
        // While the controller is down, v2's image goes (an operator's prune, a lost disk): nothing to resume.
        await KillWhenAsync(app, "rolling", whileDown: () => RemoveImageAsync($"paas/app-{app}:v3"));
        var (status, text) = await SettledAsync(app, push);

        Assert.True(status.GetProperty("status").GetString() == "rolled back", $"v2 after a kill during its rollout, image gone: {status}\n{text}");
        Assert.Contains("its image is gone, so the previous release was restored", status.GetProperty("status_reason").GetString());
        Assert.Contains("[rolled back: The controller restarted during v3's rollout", text);
        var (requests, failures) = await loop.StopAsync();
        output.WriteLine($"rolled back: {requests} requests through the router, {failures.Count} failed");
        Assert.True(failures.Count == 0, $"{failures.Count} of {requests} requests failed: {string.Join("; ", failures.Take(5))}");
        // The convergence that restored v1 (before the record said so) stopped any v2 instance started before the kill.
        using var after = await platform.GetThroughRouterAsync(PlatformFixture.AppHost(app));
        Assert.Contains("Hello from v1", await after.Content.ReadAsStringAsync());
        Assert.All((await platform.ContainersAsync(app)).Where(c => c.State == "running"), c => Assert.Equal("2", c.Labels["paas.release"]));
    }

    [Fact]
    public async Task ControllerKilledDuringStaging_TheDeployIsMarkedFailed_AndTheOldReleaseKeepsServing()
    {
        var (app, workTree) = await DeployedAppAsync("unstaged");
        await using var loop = RequestLoop.Start(platform, app);

        // v2 is built by a buildpack whose compile takes 20 s: the kill lands in staging, not after it (a static
        // build alone once finished between the status read and the kill, and the deploy was resumed instead).
        await File.WriteAllTextAsync(Path.Combine(workTree, ".buildpacks"), $"file://{await platform.BuildpackRepoAsync("slow")}\n");
        var push = PushVersionTwoAsync(workTree);
        await KillWhenAsync(app, "staging");
        var (status, text) = await SettledAsync(app, push);

        Assert.True(status.GetProperty("status").GetString() == "failed", $"v2 after a kill during staging: {status}\n{text}");
        Assert.Contains("restarted while v3 was being built", status.GetProperty("status_reason").GetString());
        Assert.Contains("[failed: The controller restarted while v3 was being built", text);
        var (requests, failures) = await loop.StopAsync();
        output.WriteLine($"failed: {requests} requests through the router, {failures.Count} failed, v1 served throughout: {!loop.Saw("Hello from v2")}");
        Assert.True(failures.Count == 0, $"{failures.Count} of {requests} requests failed: {string.Join("; ", failures.Take(5))}");
        Assert.False(loop.Saw("Hello from v2"), "v2 was served although its deploy failed.");
        using var after = await platform.GetThroughRouterAsync(PlatformFixture.AppHost(app));
        Assert.Contains("Hello from v1", await after.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// An app at v1 whose web process waits 4 s before it listens, so a rollout lasts long enough to be
    /// caught in the middle (static files served by the stack's Python, as the static buildpack does).
    /// </summary>
    private async Task<(string App, string WorkTree)> DeployedAppAsync(string stem)
    {
        var app = PlatformFixture.UniqueAppName(stem);
        var workTree = await platform.NewWorkTreeAsync("static");
        await File.WriteAllTextAsync(Path.Combine(workTree, "index.html"), "<h1>Hello from v1</h1>\n");
        await File.WriteAllTextAsync(Path.Combine(workTree, "Procfile"), "web: sleep 4; exec python3 -m http.server \"$PORT\" --bind 0.0.0.0 --directory /app/public\n");
        await platform.CommitAllAsync(workTree, "v1");
        AppUnderTest.Must(await platform.PaasAsync(workTree, "apps:create", app));
        AppUnderTest.Must(await platform.PaasAsync(workTree, "git:remote", app));
        AppUnderTest.Must(await platform.GitAsync(workTree, "push", "paas", "main"));
        return (app, workTree);
    }

    private async Task<ProcessResult> PushVersionTwoAsync(string workTree)
    {
        await File.WriteAllTextAsync(Path.Combine(workTree, "index.html"), "<h1>Hello from v2</h1>\n");
        await platform.CommitAllAsync(workTree, "v2");
        // The push is cut off with the controller: its own outcome does not matter, the record's does.
        return await platform.GitAsync(workTree, "push", "paas", "main");
    }

    /// <summary>Watches v2's record until it reaches <paramref name="phase"/>, then SIGKILLs the controller and starts it again.</summary>
    private async Task<string> KillWhenAsync(string app, string phase, Func<Task>? whileDown = null)
    {
        var clock = Stopwatch.StartNew();
        var seen = "";
        while (clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (await VersionTwoAsync(app) is { } v2)
            {
                seen = v2.GetProperty("status").GetString()!;
                if (seen == phase)
                {
                    platform.KillController();
                    output.WriteLine($"controller killed during v2's {phase}, {clock.Elapsed.TotalSeconds:0.0} s after the push began");
                    if (whileDown is not null)
                        await whileDown();
                    await platform.StartControllerAsync();
                    return phase;
                }
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"v2 of {app} never reached '{phase}' (last seen: '{seen}').");
    }

    /// <summary>Waits until v2's deploy is released, failed or rolled back; returns its JSON and the human listing.</summary>
    private async Task<(JsonElement Status, string Listing)> SettledAsync(string app, Task<ProcessResult> push)
    {
        var cutOff = await push;
        output.WriteLine($"push exited {cutOff.ExitCode}");
        var clock = Stopwatch.StartNew();
        JsonElement? last = null;
        while (clock.Elapsed < SettleLimit)
        {
            last = await VersionTwoAsync(app);
            if (last?.GetProperty("status").GetString() is "released" or "failed" or "rolled back")
            {
                output.WriteLine($"v2 settled as '{last.Value.GetProperty("status")}' {clock.Elapsed.TotalSeconds:0.0} s after the push ended: {last.Value.GetProperty("status_reason")}");
                var listing = await platform.PaasAsync(null, "releases", "-a", app);
                AppUnderTest.Must(listing);
                return (last.Value, listing.Stdout);
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"v2 of {app} was left half-done: {last}\n{platform.ControllerOutput}");
    }

    private async Task<JsonElement?> VersionTwoAsync(string app)
    {
        var listed = await platform.PaasAsync(null, "releases", "-a", app, "--json");
        if (listed.ExitCode != 0)
            return null; // the controller is down or starting
        foreach (var release in JsonDocument.Parse(listed.Stdout).RootElement.EnumerateArray())
        {
            // v1 is the app's "Initial release", v2 its first push.
            if (release.GetProperty("version").GetInt32() == 3)
                return release.TryGetProperty("status", out _) ? release.Clone() : null;
        }
        return null;
    }

    /// <summary>Untags the image (a running container keeps its layers, as after `docker rmi -f`).</summary>
    private static async Task RemoveImageAsync(string image)
    {
        using var docker = new Docker.DotNet.DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        await docker.Images.DeleteImageAsync(image, new Docker.DotNet.Models.ImageDeleteParameters { Force = true });
    }

    /// <summary>GETs through the router every 50 ms until stopped (at most 3,000 requests), noting failures and what it was served.</summary>
    private sealed class RequestLoop : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<string> _failures = [];
        private readonly HashSet<string> _bodies = [];
        private Task<int> _loop = Task.FromResult(0);

        public static RequestLoop Start(PlatformFixture platform, string app)
        {
            var loop = new RequestLoop();
            loop._loop = Task.Run(() => loop.RunAsync(platform, app));
            return loop;
        }

        private async Task<int> RunAsync(PlatformFixture platform, string app)
        {
            var requests = 0;
            while (!_stop.IsCancellationRequested && requests < 3000)
            {
                requests++;
                try
                {
                    using var response = await platform.GetThroughRouterAsync(PlatformFixture.AppHost(app));
                    var body = await response.Content.ReadAsStringAsync();
                    lock (_bodies)
                    {
                        if ((int)response.StatusCode != 200)
                            _failures.Add($"{(int)response.StatusCode} {body.Trim()}");
                        else
                            _bodies.Add(body.Trim());
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    lock (_bodies)
                        _failures.Add(e.Message);
                }
                await Task.Delay(50);
            }
            return requests;
        }

        public bool Saw(string text)
        {
            lock (_bodies)
                return _bodies.Any(b => b.Contains(text));
        }

        public async Task WaitForAsync(string text, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (!Saw(text) && clock.Elapsed < timeout)
                await Task.Delay(100);
            Assert.True(Saw(text), $"the router never served '{text}'.");
        }

        public async Task<(int Requests, List<string> Failures)> StopAsync()
        {
            await _stop.CancelAsync();
            var requests = await _loop;
            lock (_bodies)
                return (requests, [.. _failures]);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
        }
    }
}
