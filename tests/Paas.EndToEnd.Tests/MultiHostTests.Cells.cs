using System.Diagnostics;
using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>The controller and the cells across hosts: a restart adopts what runs everywhere; `paas cells` shows each host.</summary>
public sealed partial class MultiHostTests
{
    [Fact]
    public async Task ControllerRestart_AdoptsTheInstancesOnEveryHost_WithoutRestartingThem()
    {
        var app = await SpreadOverThreeHostsAsync("adopt");
        var before = await StartTimesAsync(app.Name);
        Assert.Equal(3, before.Count);

        platform.StopController();
        // The router serves on while the controller is away.
        Assert.StartsWith("200 ", await app.GetAsync());
        await platform.StartControllerAsync();
        await platform.WaitForCellsAsync(MultiHostPlatform.HostLayout.Count);
        // Several converge passes (every 2 s here) after the controller saw every cell.
        await Task.Delay(TimeSpan.FromSeconds(6));

        var instances = await app.InstancesAsync();
        Assert.Equal(3, instances.Count(Running));
        Assert.Equal(MultiHostPlatform.HostLayout.Select(h => h.Name).Order(), instances.Where(Running).Select(CellOf).Order());
        // The same containers on each host's engine, never restarted (a restart changes State.StartedAt).
        var after = await StartTimesAsync(app.Name);
        Assert.Equal(before.OrderBy(c => c.Key).ToList(), after.OrderBy(c => c.Key).ToList());
        for (var i = 0; i < 6; i++)
            Assert.StartsWith("200 ", await app.GetAsync());
    }

    /// <summary>Each running container of the app, on every host's own engine: "host/container id" → when its process started.</summary>
    private async Task<Dictionary<string, string>> StartTimesAsync(string app)
    {
        var times = new Dictionary<string, string>();
        foreach (var (host, _) in MultiHostPlatform.HostLayout)
        {
            foreach (var container in (await platform.ContainersOnAsync(host, app)).Where(c => c.State == "running"))
            {
                var inspected = await platform.Host(host).DockerClient.Containers.InspectContainerAsync(container.ID);
                times[$"{host}/{container.ID[..12]}"] = inspected.State.StartedAt;
            }
        }
        return times;
    }

    [Fact]
    public async Task PaasCells_ShowsEachCellsHostAddress_ImagesCached_AndPullFailures()
    {
        await SpreadOverThreeHostsAsync("cells");
        // Images are counted at each heartbeat (every 0.5 s here).
        List<JsonElement> cells = [];
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var listed = AppUnderTest.Must(await platform.PaasAsync(null, "cells", "--json"));
            // The hosts' cells; the fixture's staging cell on the main host is not one of them.
            cells = JsonDocument.Parse(listed.Stdout).RootElement.EnumerateArray().Select(c => c.Clone())
                .Where(c => c.GetProperty("name").GetString() != MultiHostPlatform.StagingCell).ToList();
            if (cells.Count == 3 && cells.All(c => c.TryGetProperty("images", out var n) && n.GetInt32() > 0))
                break;
            await Task.Delay(250);
        }
        Assert.Equal(MultiHostPlatform.HostLayout.Select(h => h.Name).Order(), cells.Select(c => c.GetProperty("name").GetString()!).Order());
        foreach (var cell in cells)
        {
            var name = cell.GetProperty("name").GetString()!;
            Assert.Equal(platform.Host(name).Address, cell.GetProperty("address").GetString());
            Assert.True(cell.GetProperty("images").GetInt32() > 0, $"{name} reports no cached image: {cell}");
            Assert.True(cell.GetProperty("pull_failures").GetInt64() >= 0, cell.ToString());
        }

        var table = AppUnderTest.Must(await platform.PaasAsync(null, "cells")).Stdout.Split('\n');
        log.WriteLine(string.Join('\n', table));
        var header = table[0];
        Assert.Contains("ADDRESS", header);
        Assert.Contains("IMAGES", header);
        Assert.Contains("PULL FAILURES", header);
        foreach (var cell in cells)
        {
            var name = cell.GetProperty("name").GetString()!;
            var row = Assert.Single(table, l => l.StartsWith(name + " ", StringComparison.Ordinal));
            var columns = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(platform.Host(name).Address, columns[2]);
        }
    }

    [Fact]
    public async Task CellThatJoinsWithStackPrepull_PullsTheStackTheControllerPublished_AndPaasCellsShowsItPulled()
    {
        // h3 joins again, now pre-pulling: its engine gets the stack from the registry, by the digest the controller published.
        const string joining = "h3";
        platform.KillCell(joining);
        var clock = Stopwatch.StartNew();
        await platform.StartCellAsync(joining, new Dictionary<string, string> { ["PAAS_CELL_STACK_PREPULL"] = "on" });
        JsonElement cell = default;
        string? stack = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(180))
        {
            var cells = JsonDocument.Parse(AppUnderTest.Must(await platform.PaasAsync(null, "cells", "--json")).Stdout).RootElement;
            cell = cells.EnumerateArray().Single(c => c.GetProperty("name").GetString() == joining);
            stack = cell.TryGetProperty("stack", out var s) ? s.GetString() : null;
            if (stack == "pulled" || stack?.StartsWith("failed", StringComparison.Ordinal) == true)
                break;
            await Task.Delay(500);
        }
        log.WriteLine($"stack on {joining}: {stack} after {clock.Elapsed.TotalSeconds:0.0} s; {cell}");
        Assert.Equal("pulled", stack);

        // On h3's engine as the platform names it (so h3 can stage), pulled by digest from the registry at h3's address.
        var image = await platform.Host(joining).DockerClient.Images.InspectImageAsync(PlatformFixture.StackImage);
        Assert.Contains(image.RepoDigests, d => d.StartsWith($"{platform.Registry.Address}/paas/stack@sha256:", StringComparison.Ordinal));

        var table = AppUnderTest.Must(await platform.PaasAsync(null, "cells")).Stdout.Split('\n');
        Assert.Contains("STACK", table[0]);
        Assert.EndsWith(" pulled", Assert.Single(table, l => l.StartsWith(joining + " ", StringComparison.Ordinal)).TrimEnd());
    }
}
