using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>The platform can stop and start without touching what runs.</summary>
[Collection(PlatformCollection.Name)]
public sealed class RestartTests(PlatformFixture platform)
{
    [Fact]
    public async Task ControllerRestart_AdoptsRunningInstances_WithoutRestartingThem()
    {
        var app = PlatformFixture.UniqueAppName("adopt");
        var workTree = await platform.NewWorkTreeAsync("static");
        Assert.Equal(0, (await platform.PaasAsync(workTree, "apps:create", app)).ExitCode);
        Assert.Equal(0, (await platform.PaasAsync(workTree, "git:remote", app)).ExitCode);
        var push = await platform.GitAsync(workTree, "push", "paas", "main");
        Assert.True(push.ExitCode == 0, push.ToString());
        var before = Assert.Single(await platform.ContainersAsync(app));
        var startedBefore = await platform.StartedAtAsync(before.ID);

        platform.StopController();
        using (var whileStopped = await platform.GetThroughRouterAsync(PlatformFixture.AppHost(app)))
            Assert.Contains("Hello from static v1", await whileStopped.Content.ReadAsStringAsync());
        await platform.StartControllerAsync();
        // Give the start-up convergence pass time to finish before looking.
        var ps = await platform.PaasAsync(null, "ps", "-a", app, "--json");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var after = Assert.Single(await platform.ContainersAsync(app));
        using var response = await platform.GetThroughRouterAsync(PlatformFixture.AppHost(app));

        // Same container, and not restarted: a restart keeps the id, so the start time is what tells.
        Assert.Equal(before.ID, after.ID);
        Assert.Equal(startedBefore, await platform.StartedAtAsync(after.ID));
        Assert.Equal("running", after.State);
        Assert.Contains("\"state\": \"running\"", ps.Stdout);
        Assert.Contains("Hello from static v1", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task CellAgentsKilled_HealthyInstancesKeepServing_AndAreAdoptedUnharmedWhenTheyReturn()
    {
        var app = PlatformFixture.UniqueAppName("agentless");
        var workTree = await platform.NewWorkTreeAsync("static");
        AppUnderTest.Must(await platform.PaasAsync(workTree, "apps:create", app));
        AppUnderTest.Must(await platform.PaasAsync(workTree, "git:remote", app));
        AppUnderTest.Must(await platform.GitAsync(workTree, "push", "paas", "main"));
        var before = Assert.Single(await platform.ContainersAsync(app));
        var startedBefore = await platform.StartedAtAsync(before.ID);

        // Every agent dies (as `make run`'s one agent would): nowhere to re-place, and nothing is wrong
        // with the instance itself. Past the lost-cell timeout (5 s here) it must still be served.
        foreach (var cell in PlatformFixture.CellLayout)
            platform.KillCell(cell.Name);
        var failures = new List<string>();
        var requests = 0;
        try
        {
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (DateTime.UtcNow < until && requests < 500)
            {
                requests++;
                using var response = await platform.GetThroughRouterAsync(PlatformFixture.AppHost(app));
                if (!response.IsSuccessStatusCode)
                    failures.Add($"{(int)response.StatusCode} {string.Join(",", response.Headers.TryGetValues("X-Paas-Router-Error", out var r) ? r : [])}");
                await Task.Delay(50);
            }
        }
        finally
        {
            // Its own agent first, as `make run`'s one agent comes back. Were another cell live first, the converger
            // holds the slot for a lost cell's timeout (CellReturnGrace) before filling it there: a full run once saw
            // this instance replaced when the home cell's first heartbeat came after a peer's.
            var home = before.Labels["paas.cell"];
            await platform.StartCellAsync(home);
            foreach (var cell in PlatformFixture.CellLayout.Where(c => c.Name != home))
                await platform.StartCellAsync(cell.Name);
            await platform.WaitForCellsAsync(PlatformFixture.CellLayout.Count);
        }
        await Task.Delay(TimeSpan.FromSeconds(3)); // a few convergence passes (2 s each here) with the agents back
        var after = Assert.Single(await platform.ContainersAsync(app));
        using var served = await platform.GetThroughRouterAsync(PlatformFixture.AppHost(app));

        Assert.True(failures.Count == 0, $"{failures.Count} of {requests} requests failed while the agents were down: {string.Join("; ", failures.Distinct())}");
        Assert.True(requests > 50, $"only {requests} requests were made");
        Assert.Equal(before.ID, after.ID);
        Assert.Equal(startedBefore, await platform.StartedAtAsync(after.ID));
        Assert.Contains("Hello from static v1", await served.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Push_WithASymlinkOutOfTheApp_IsRejected()
    {
        var app = PlatformFixture.UniqueAppName("symlink");
        var workTree = await platform.NewWorkTreeAsync("static");
        File.CreateSymbolicLink(Path.Combine(workTree, "leak"), "/etc/passwd");
        await platform.CommitAllAsync(workTree, "a hostile link");
        Assert.Equal(0, (await platform.PaasAsync(workTree, "apps:create", app)).ExitCode);
        Assert.Equal(0, (await platform.PaasAsync(workTree, "git:remote", app)).ExitCode);

        var push = await platform.GitAsync(workTree, "push", "paas", "main");

        Assert.NotEqual(0, push.ExitCode);
        Assert.Contains("The symlink 'leak' points outside the app", push.Stderr);
        Assert.Empty(await platform.ContainersAsync(app));
    }
}
