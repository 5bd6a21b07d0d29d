using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>`paas logs`: one log per app with build output, instance output, router lines and platform events, kept across deploys.</summary>
[Collection(PlatformCollection.Name)]
public sealed class LogsTests(PlatformFixture platform)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Runs `paas logs` until its output satisfies the condition (bounded); returns the last output either way.</summary>
    private static async Task<string> LogsUntilAsync(AppUnderTest app, Func<string, bool> condition, params string[] args)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var logs = AppUnderTest.Must(await app.PaasAsync(["logs", "-n", "1500", .. args])).Stdout;
            if (condition(logs) || clock.Elapsed > Patience)
                return logs;
            await Task.Delay(250);
        }
    }

    private static int IndexOf(string logs, string pattern)
    {
        var match = Regex.Match(logs, pattern, RegexOptions.Multiline);
        Assert.True(match.Success, $"No line matches {pattern} in:\n{logs}");
        return match.Index;
    }

    private Task<HttpResponseMessage> GetAsync(AppUnderTest app, string path) => platform.GetThroughRouterAsync(PlatformFixture.AppHost(app.Name), path);

    [Fact]
    public async Task Logs_ShowStagingAppRouterAndPlatformLinesInOrder_AndKeepThemAcrossARedeploy()
    {
        var app = await AppUnderTest.PushedAsync(platform, "logs", "python");
        var marker = "marker-" + Guid.NewGuid().ToString("N")[..8];
        using (var printed = await GetAsync(app, $"/log?msg={marker}"))
            Assert.Equal(200, (int)printed.StatusCode);
        using (var served = await GetAsync(app, "/orders"))
            Assert.Equal(200, (int)served.StatusCode);

        var logs = await LogsUntilAsync(app, l => l.Contains(marker) && l.Contains("path=\"/orders\""));

        const string stamp = @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 ";
        var building = IndexOf(logs, stamp + "staging: -----> Building " + app.Name);
        var deployed = IndexOf(logs, stamp + @"platform: Released v2: Deploy [0-9a-f]{7}");
        var started = IndexOf(logs, stamp + @"app\[web\.1\]: listening on 0\.0\.0\.0:5000$");
        var printedLine = IndexOf(logs, stamp + @"app\[web\.1\]: " + marker + "$");
        var routed = IndexOf(logs, stamp + @"router: at=info method=GET path=""/orders"" host=" + Regex.Escape(PlatformFixture.AppHost(app.Name)) + @" request_id=\S+ status=200 bytes=\d+ duration=[\d.]+ms");
        // The log is in arrival order: the build, then the instance starting, then requests made after the deploy.
        // (A line the app prints while serving may arrive just after that request's router line, as on Heroku.)
        Assert.True(building < started && started < routed, logs);
        Assert.True(building < deployed && started < printedLine, logs);

        // A second push: the first release's lines are still there, after them the new build and release.
        File.WriteAllText(Path.Combine(app.WorkTree, "VERSION"), "2\n");
        await platform.CommitAllAsync(app.WorkTree, "v2");
        AppUnderTest.Must(await platform.GitAsync(app.WorkTree, "push", "paas", "main"));
        var after = await LogsUntilAsync(app, l => l.Contains("platform: Released v3: Deploy "));

        Assert.True(IndexOf(after, Regex.Escape(marker) + "$") < IndexOf(after, @"platform: Released v3: Deploy [0-9a-f]{7}"), after);
        Assert.True(IndexOf(after, @"router: .*path=""/orders""") < IndexOf(after, "staging: -----> Released v3"), after);
    }

    [Fact]
    public async Task Logs_FilterBySourceAndProcess_PrintJson_AndGoWithTheApp()
    {
        var app = await AppUnderTest.PushedAsync(platform, "logfilter", "python");
        using (await GetAsync(app, "/log?msg=filtered"))
        {
        }
        await LogsUntilAsync(app, l => l.Contains("router: ") && l.Contains("app[web.1]: filtered"));

        var router = AppUnderTest.Must(await app.PaasAsync("logs", "--source", "router")).Stdout;
        var web = AppUnderTest.Must(await app.PaasAsync("logs", "--ps", "web.1", "-n", "1")).Stdout;
        // Heroku's name for the same filter.
        var dyno = AppUnderTest.Must(await app.PaasAsync("logs", "--dyno", "web.1", "-n", "1")).Stdout;
        var json = AppUnderTest.Must(await app.PaasAsync("logs", "--json", "-n", "5")).Stdout;
        var badSource = await app.PaasAsync("logs", "--source", "nope");

        var routerLines = router.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(routerLines);
        Assert.All(routerLines, line => Assert.Contains(" router: ", line));
        Assert.Contains("app[web.1]: filtered", Assert.Single(web.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.Contains("app[web.1]: filtered", Assert.Single(dyno.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        var entries = json.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(5, entries.Count);
        Assert.All(entries, e => Assert.True(e.TryGetProperty("source", out _) && e.TryGetProperty("line", out _)));
        Assert.Equal(2, badSource.ExitCode);
        Assert.Contains("--source must be one of app, staging, router, platform", badSource.Stderr);

        AppUnderTest.Must(await app.PaasAsync("apps:destroy", "--confirm", app.Name));
        AppUnderTest.Must(await platform.PaasAsync(app.WorkTree, "apps:create", app.Name));
        Assert.Equal("", AppUnderTest.Must(await app.PaasAsync("logs")).Stdout);
    }

    [Fact]
    public async Task Tail_DeliversALineTheAppPrints_WithinASecond()
    {
        var app = await AppUnderTest.PushedAsync(platform, "tail", "python");
        using var tail = new LiveProcess("dotnet", [RepoPaths.Dll("src/Paas.Cli", "paas"), "logs", "--tail", "-n", "5", "-a", app.Name],
            app.WorkTree, platform.ClientEnvironment());
        Assert.True(await tail.WaitForLineAsync(" ", Patience) is not null, tail.Output);

        var marker = "tailed-" + Guid.NewGuid().ToString("N")[..8];
        using (var printed = await GetAsync(app, $"/log?msg={marker}"))
            Assert.Equal(200, (int)printed.StatusCode);
        var printedAt = Stopwatch.GetTimestamp();
        var arrivedAt = await tail.WaitForLineAsync($"app[web.1]: {marker}", Patience);

        Assert.True(arrivedAt is not null, tail.Output);
        var delay = Stopwatch.GetElapsedTime(printedAt, arrivedAt!.Value);
        Assert.True(delay < TimeSpan.FromSeconds(1), $"The line took {delay.TotalMilliseconds:0} ms to reach `paas logs --tail`.");
    }

    [Fact]
    public async Task ChattyApp_IsRateLimited_AndTheLogSaysHowManyLinesWereDropped()
    {
        var app = await AppUnderTest.PushedAsync(platform, "chatty", "python");
        var id = Guid.NewGuid().ToString("N")[..8];

        // Far more than the default allowance (500 lines per second, bursts of 1000) in well under a second.
        using (var flood = await GetAsync(app, $"/log?msg=flood-{id}&count=6000"))
            Assert.Equal(200, (int)flood.StatusCode);
        // Drops are reported once the app may log again, possibly in more than one marker: wait for all of them.
        var clock = Stopwatch.StartNew();
        string platformLines;
        long dropped, kept;
        do
        {
            await Task.Delay(250);
            platformLines = AppUnderTest.Must(await app.PaasAsync("logs", "-n", "1500", "--source", "platform")).Stdout;
            var appLines = AppUnderTest.Must(await app.PaasAsync("logs", "-n", "1500", "--source", "app")).Stdout;
            dropped = Regex.Matches(platformLines, @"platform: Log rate limit exceeded: (\d+) lines? dropped").Sum(m => long.Parse(m.Groups[1].Value));
            kept = appLines.Split('\n').Count(l => l.Contains($"flood-{id} "));
        }
        while (kept + dropped < 6000 && kept < 1500 && clock.Elapsed < Patience);

        Assert.True(dropped > 0, platformLines);
        Assert.True(kept < 6000, $"{kept} lines kept");
        if (kept < 1500)
            Assert.Equal(6000, kept + dropped);
    }

    [Fact]
    public async Task CellAgentRestart_LosesNoLine_AndRepeatsNone()
    {
        var app = await AppUnderTest.PushedAsync(platform, "agentlogs", "python");
        var id = Guid.NewGuid().ToString("N")[..8];
        var cell = (await app.InstancesAsync()).Single().GetProperty("cell").GetString()!;
        using (await GetAsync(app, $"/log?msg=before-{id}&count=5"))
        {
        }
        await LogsUntilAsync(app, l => l.Contains($"before-{id} 5"));

        platform.KillCell(cell);
        try
        {
            // Printed while no agent watches this container: only the restarted agent can collect these.
            using var printed = await GetAsync(app, $"/log?msg=during-{id}&count=20");
            Assert.Equal(200, (int)printed.StatusCode);
        }
        finally
        {
            await platform.StartCellAsync(cell);
        }
        using (await GetAsync(app, $"/log?msg=after-{id}&count=5"))
        {
        }
        var logs = await LogsUntilAsync(app, l => l.Contains($"after-{id} 5") && l.Contains($"during-{id} 20"), "--source", "app");
        await platform.WaitForCellsAsync(PlatformFixture.CellLayout.Count);

        var expected = Enumerable.Range(1, 5).Select(i => $"before-{id} {i}")
            .Concat(Enumerable.Range(1, 20).Select(i => $"during-{id} {i}"))
            .Concat(Enumerable.Range(1, 5).Select(i => $"after-{id} {i}"))
            .ToList();
        var seen = logs.Split('\n').Select(l => l.Split(": ", 2) is [_, var text] ? text : "").Where(t => t.Contains(id)).ToList();
        // Exactly once each; across the restart the order of the two agents' writes is not the point.
        Assert.Equal(expected.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
    }
}
