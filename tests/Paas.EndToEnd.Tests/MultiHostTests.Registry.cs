using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>A registry that fails: the deploy fails with the reason, and the release before it serves on.</summary>
public sealed partial class MultiHostTests
{
    [Fact]
    public async Task RegistryStoppedWhenADeployPushes_FailsTheDeployWithTheReason_AndTheOldReleaseServesOn()
    {
        var app = await AppUnderTest.PushedAsync(platform, "registry-down", "static");
        Assert.Contains("Hello from static v1", await app.GetAsync());
        await File.WriteAllTextAsync(Path.Combine(app.WorkTree, "index.html"), "<h1>Hello from static v2</h1>\n");
        await platform.CommitAllAsync(app.WorkTree, "v2");

        platform.Registry.Stop();
        ProcessResult push;
        string health;
        try
        {
            // The controller's /healthz names the registry it cannot reach (a monitor hears of it before a push fails).
            using var answer = await platform.Http.GetAsync($"{platform.ApiUrl}/healthz");
            health = $"{(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}";
            push = await platform.GitAsync(app.WorkTree, "push", "paas", "main");
        }
        finally
        {
            // Same port, storage and credentials: later tests find their images where they left them.
            await platform.Registry.StartAgainAsync();
        }
        log.WriteLine(health);
        Assert.Matches("^503 unhealthy: .*registry: ", health);
        log.WriteLine(push.Stderr);
        Assert.NotEqual(0, push.ExitCode);
        // The staging cell takes no instances: the one instance needed the push, so it failed with the push's reason.
        Assert.Matches($@"Push rejected: web\.1 could not start on cell h\d: Pushing the image to the registry {System.Text.RegularExpressions.Regex.Escape(platform.Registry.LoopbackAddress)} failed: \S.*", push.Stderr);
        await AssertServesV1Async(app);
    }

    [Fact]
    public async Task PullThatFailsOnACell_FailsThatInstanceWithTheReason_CountsAsAPullFailure_AndTheOldReleaseServesOn()
    {
        var app = await AppUnderTest.PushedAsync(platform, "pull-fails", "static");
        Assert.Contains("Hello from static v1", await app.GetAsync());
        await File.WriteAllTextAsync(Path.Combine(app.WorkTree, "index.html"), "<h1>Hello from static v2</h1>\n");
        await platform.CommitAllAsync(app.WorkTree, "v2");

        // The controller still pushes (at 127.0.0.1), but no host reaches the registry: connections from the
        // test network's bridge to its port are reset, as by a registry host's firewall.
        var port = platform.Registry.LoopbackAddress.Split(':')[1];
        string[] block = ["-p", "tcp", "--dport", port, "-j", "REJECT", "--reject-with", "tcp-reset"];
        await platform.Network.AddRuleAsync("INPUT", block);
        ProcessResult push;
        try
        {
            push = await platform.GitAsync(app.WorkTree, "push", "paas", "main");
        }
        finally
        {
            await platform.Network.RemoveRuleAsync("INPUT", block);
        }
        log.WriteLine(push.Stderr);
        Assert.NotEqual(0, push.ExitCode);
        // The reason as the engine gave it, readable: not the API's JSON wrapping.
        var failure = System.Text.RegularExpressions.Regex.Match(push.Stderr,
            $@"Push rejected: web\.1 could not start on cell (h\d): Pulling the image on cell \1 failed: [^{{\n]*{System.Text.RegularExpressions.Regex.Escape(platform.Registry.Address)}[^{{\n]*connection refused\.");
        Assert.True(failure.Success, push.Stderr);
        await AssertServesV1Async(app);

        // The cell counts it, and `paas cells` shows the count.
        var cell = failure.Groups[1].Value;
        var cells = JsonDocument.Parse(AppUnderTest.Must(await platform.PaasAsync(null, "cells", "--json")).Stdout).RootElement;
        var failures = 0L;
        for (var attempt = 0; attempt < 20 && failures == 0; attempt++)
        {
            await Task.Delay(250);
            cells = JsonDocument.Parse(AppUnderTest.Must(await platform.PaasAsync(null, "cells", "--json")).Stdout).RootElement;
            failures = cells.EnumerateArray().Single(c => c.GetProperty("name").GetString() == cell).GetProperty("pull_failures").GetInt64();
        }
        Assert.True(failures >= 1, cells.ToString());
    }

    [Fact]
    public async Task RegistryStoppedWhenStagingOnAHost_ThatHostsInstanceStartsFromItsOwnImage_OthersFailWithThePushsReason()
    {
        // h2 stages, and rolls out three at once: one instance lands on each host.
        await platform.LoadStackAsync(Stager);
        platform.StopController();
        await platform.StartControllerAsync(new Dictionary<string, string> { ["PAAS_STAGING_CELL"] = Stager, ["PAAS_ROLLOUT_MAX_IN_FLIGHT"] = "3" });
        await platform.WaitForCellsAsync(MultiHostPlatform.HostLayout.Count);
        try
        {
            var app = await SpreadOverThreeHostsAsync("push-behind");
            await File.WriteAllTextAsync(Path.Combine(app.WorkTree, "index.html"), "<h1>Hello from static v2</h1>\n");
            await platform.CommitAllAsync(app.WorkTree, "v2");

            platform.Registry.Stop();
            ProcessResult push;
            try
            {
                push = await platform.GitAsync(app.WorkTree, "push", "paas", "main");
            }
            finally
            {
                await platform.Registry.StartAgainAsync();
            }
            log.WriteLine(push.Stderr);
            Assert.NotEqual(0, push.ExitCode);
            // h2 built v2: its instance started from that image and became healthy with no registry at all ...
            var onStager = System.Text.RegularExpressions.Regex.Match(push.Stderr, $@"remote:        (web\.\d) started on cell {Stager}\b");
            Assert.True(onStager.Success, push.Stderr);
            Assert.Contains($"remote:        {onStager.Groups[1].Value} is healthy", push.Stderr);
            // ... while the instances on the other hosts, which needed the push, failed with its reason.
            Assert.Matches($@"web\.\d could not start on cell h[13]: Pushing the image to the registry {System.Text.RegularExpressions.Regex.Escape(platform.Registry.Address)} failed: \S", push.Stderr);
            Assert.Contains("The previous release, if any, is still serving.", push.Stderr);

            // v1 serves on, on all three hosts, and nothing of v2 is left running.
            var instances = await app.WaitForInstancesAsync(l => l.Count(Running) == 3 && l.Where(Running).All(i => i.GetProperty("release").GetInt32() == 2), TimeSpan.FromSeconds(30));
            Assert.Equal(3, instances.Count(i => Running(i) && i.GetProperty("release").GetInt32() == 2));
            for (var i = 0; i < 6; i++)
                Assert.Contains("Hello from static v1", await app.GetAsync());
        }
        finally
        {
            await PinStagingAsync(null);
        }
    }

    /// <summary>v1 still runs, and still answers, after a failed deploy of v2 (and after the next converge passes).</summary>
    private async Task AssertServesV1Async(AppUnderTest app)
    {
        await Task.Delay(TimeSpan.FromSeconds(3));
        var instances = await app.InstancesAsync();
        var running = Assert.Single(instances, Running);
        Assert.Equal(2, running.GetProperty("release").GetInt32());
        for (var i = 0; i < 3; i++)
            Assert.Contains("Hello from static v1", await app.GetAsync());
    }
}
