using System.Diagnostics;
using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Paas.EndToEnd.Tests;

/// <summary>Two controllers on one etcd: the standby forwards writes and pushes, holds copies of the repositories, and takes over when the leader dies.</summary>
public sealed class StandbyControllerTests(StandbyPlatform platform, ITestOutputHelper output) : IClassFixture<StandbyPlatform>
{
    [Fact]
    public async Task LeaderKilled_StandbyLeadsWithin10s_AndTheAppsHistoryAndRepositoryAreIntact()
    {
        await WaitForRoleAsync(platform.ApiUrl, "role: leader", TimeSpan.FromSeconds(15));
        await platform.StartStandbyAsync();
        await WaitForRoleAsync(platform.StandbyUrl, $"role: standby; leader: {platform.ApiUrl}", TimeSpan.FromSeconds(15));

        // Everything through the standby: the create and the push are forwarded to the leader.
        var app = PlatformFixture.UniqueAppName("standby");
        var workTree = await platform.NewWorkTreeAsync("static");
        AppUnderTest.Must(await platform.PaasViaAsync(platform.StandbyUrl, workTree, "apps:create", app));
        AppUnderTest.Must(await platform.PaasViaAsync(platform.StandbyUrl, workTree, "git:remote", app));
        var first = await platform.GitAsync(workTree, "push", "paas", "main");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("Hello from static v1", await ServedAsync(app, "v1", TimeSpan.FromSeconds(30)));
        // A read the standby serves itself, from its own copy of the repository.
        var v1 = AppUnderTest.Must(await platform.GitAsync(workTree, "rev-parse", "HEAD")).Stdout.Trim();
        var listed = AppUnderTest.Must(await platform.GitAsync(workTree, "ls-remote", "paas", "refs/heads/main"));
        Assert.StartsWith(v1, listed.Stdout);
        Assert.Contains("Repository copied to 1 standby controller", first.Stderr);

        platform.KillController();
        var clock = Stopwatch.StartNew();
        // The dead leader is still the leader the standby knows: a write meanwhile is refused with no_leader.
        var meanwhile = await platform.Http.PostAsync($"{platform.StandbyUrl}/v1/apps", new StringContent("{}"));
        var refusal = await meanwhile.Content.ReadAsStringAsync();
        await WaitForRoleAsync(platform.StandbyUrl, "role: leader", TimeSpan.FromSeconds(20));
        var takeover = clock.Elapsed;
        output.WriteLine($"standby took over {takeover.TotalSeconds:0.0} s after the leader was killed");
        Assert.Equal(503, (int)meanwhile.StatusCode);
        Assert.Contains("no_leader", refusal);
        Assert.True(takeover < TimeSpan.FromSeconds(10), $"took over after {takeover.TotalSeconds:0.0} s");

        await File.WriteAllTextAsync(Path.Combine(workTree, "index.html"),
            (await File.ReadAllTextAsync(Path.Combine(workTree, "index.html"))).Replace("static v1", "static v2"));
        await platform.CommitAllAsync(workTree, "second");
        var second = await platform.GitAsync(workTree, "push", "paas", "main");
        Assert.True(second.ExitCode == 0, second + "\n" + platform.StandbyOutput);

        var releases = AppUnderTest.Must(await platform.PaasViaAsync(platform.StandbyUrl, null, "releases", "-a", app, "--json"));
        var versions = JsonDocument.Parse(releases.Stdout).RootElement.EnumerateArray().Select(r => r.GetProperty("version").GetInt32()).Order().ToList();
        Assert.Equal([1, 2, 3], versions);
        // The first push's build output, recorded by the dead leader, is served by the new one (it lives in the shared state store).
        var firstOutput = AppUnderTest.Must(await platform.PaasViaAsync(platform.StandbyUrl, null, "releases:output", "v2", "-a", app));
        Assert.Contains("-----> Released v2", firstOutput.Stdout);
        // The new leader's repository has both commits, the first one copied from the dead leader.
        var head = AppUnderTest.Must(await platform.GitAsync(workTree, "rev-parse", "HEAD")).Stdout.Trim();
        var log = AppUnderTest.Must(await platform.GitAsync(Path.Combine(platform.StandbyDataDirectory, "repos", app + ".git"), "rev-list", "main")).Stdout;
        Assert.Equal(AppUnderTest.Must(await platform.GitAsync(workTree, "rev-list", "main")).Stdout, log);
        Assert.StartsWith(head, log);
        Assert.Contains("Hello from static v2", await ServedAsync(app, "v2", TimeSpan.FromSeconds(30)));

        // The old leader, started again (its supervisor would), is a standby and fetches what it missed.
        await platform.StartControllerAsync();
        await WaitForRoleAsync(platform.ApiUrl, $"role: standby; leader: {platform.StandbyUrl}", TimeSpan.FromSeconds(15));
        var repository = Path.Combine(platform.DataDirectory, "repos", app + ".git");
        var caughtUp = "";
        for (var waited = Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromSeconds(15) && !caughtUp.StartsWith(head); await Task.Delay(200))
            caughtUp = (await platform.GitAsync(repository, "rev-parse", "main")).Stdout.Trim();
        Assert.Equal(head, caughtUp);
    }

    private async Task WaitForRoleAsync(string apiUrl, string expected, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var role = await platform.RoleAsync(apiUrl);
        while (!role.StartsWith(expected, StringComparison.Ordinal) && clock.Elapsed < timeout)
        {
            await Task.Delay(100);
            role = await platform.RoleAsync(apiUrl);
        }
        Assert.True(role.StartsWith(expected, StringComparison.Ordinal), $"{apiUrl}: '{role}', expected '{expected}'\n{platform.StandbyOutput}");
    }

    private async Task<string> ServedAsync(string app, string version, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var body = "";
        while (clock.Elapsed < timeout)
        {
            try
            {
                using var response = await platform.GetThroughRouterAsync(PlatformFixture.AppHost(app));
                body = await response.Content.ReadAsStringAsync();
                if (body.Contains($"static {version}"))
                    return body;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                body = e.Message;
            }
            await Task.Delay(200);
        }
        return body;
    }
}
