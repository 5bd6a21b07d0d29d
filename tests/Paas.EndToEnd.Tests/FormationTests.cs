using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>Scaling, crashes, lost cells and rolling deploys, with three real cell agents on the local engine.</summary>
[Collection(PlatformCollection.Name)]
public sealed class FormationTests(PlatformFixture platform)
{
    private static bool Running(JsonElement i) => i.GetProperty("state").GetString() == "running";

    [Fact]
    public async Task ScaleWeb10_SpreadsOverCells_AllAnswerThroughTheRouter_ThenACrashIsReplacedOnItsCellAndShown()
    {
        var app = await AppUnderTest.PushedAsync(platform, "scale", "python");

        var scaled = await app.PaasAsync("ps:scale", "web=10");

        Assert.True(scaled.ExitCode == 0, scaled.ToString());
        var instances = await app.InstancesAsync();
        Assert.Equal(10, instances.Count(Running));
        var cellsUsed = instances.Select(i => i.GetProperty("cell").GetString()).Distinct().Count();
        // When this fails, the cells' view at that moment says why (one full, one silent): it failed once under heavy load.
        if (cellsUsed != 3)
            Assert.Fail($"10 instances on {cellsUsed} cells, not 3:\n{await app.PaasAsync("ps")}\n{await platform.PaasAsync(null, "cells")}");
        // The scale returned once all ten were routed: every one answers through the router now.
        var answeredBy = await AnsweredByAsync(app, until: s => s.Count == 10);
        Assert.Equal(Enumerable.Range(1, 10).Select(n => $"web.{n}").Order(), answeredBy.Order());

        // docker kill one instance: the platform notices at once and starts it again on the same cell (its own
        // container, restarted in place), counted as a restart.
        var victim = instances.Single(i => i.GetProperty("id").GetString() == "web.2");
        using (var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient())
            await docker.Containers.KillContainerAsync("paas-" + victim.GetProperty("instance").GetString(), new ContainerKillParameters());
        var after = await app.WaitForInstancesAsync(
            l => l.Count(Running) == 10 && l.Any(i => i.GetProperty("id").GetString() == "web.2" && i.GetProperty("restarts").GetInt32() == 1),
            TimeSpan.FromSeconds(20));

        var replacement = Assert.Single(after, i => i.GetProperty("id").GetString() == "web.2");
        Assert.Equal("running", replacement.GetProperty("state").GetString());
        Assert.Equal(victim.GetProperty("cell").GetString(), replacement.GetProperty("cell").GetString());
        Assert.Equal(1, replacement.GetProperty("restarts").GetInt32());
        Assert.Equal(137, replacement.GetProperty("last_crash").GetProperty("exit_code").GetInt64());
        var events = await app.PaasAsync("events");
        Assert.Contains("web.2 of v2 crashed: exited with code 137", events.Stdout);
        Assert.Contains("web.2", await AnsweredByAsync(app, until: s => s.Contains("web.2")));

        var down = await app.PaasAsync("ps:scale", "web=1");
        Assert.Equal(0, down.ExitCode);
        Assert.Single(await app.InstancesAsync());
    }

    /// <summary>Which instances (the fixture names itself, "(web.3)") answer through the router, asking until <paramref name="until"/> holds (at most 300 GETs, each must be 200).</summary>
    private static async Task<HashSet<string>> AnsweredByAsync(AppUnderTest app, Func<HashSet<string>, bool> until)
    {
        var answeredBy = new HashSet<string>();
        for (var i = 0; i < 300 && !until(answeredBy); i++)
        {
            var body = await app.GetAsync();
            Assert.StartsWith("200 Hello from python", body);
            answeredBy.Add(body[(body.IndexOf('(') + 1)..body.IndexOf(')')]);
        }
        return answeredBy;
    }

    [Fact]
    public async Task NewRelease_ThatPassesItsFirstCheckThenCrashesInALoop_IsRolledBackToThePreviousAtFullScale()
    {
        var app = await AppUnderTest.PushedAsync(platform, "crashloop", "python");
        AppUnderTest.Must(await app.PaasAsync("ps:scale", "web=2"));

        // v3 (v1 is the initial release, v2 the first push) listens (so its deploy passes the health checks), then exits after 6 s, every time.
        File.WriteAllText(Path.Combine(app.WorkTree, "Procfile"), "web: timeout 6 python3 app.py\n");
        await platform.CommitAllAsync(app.WorkTree, "v2 dies after 6 s");
        AppUnderTest.Must(await platform.GitAsync(app.WorkTree, "push", "paas", "main"));

        // Crash, restart at once, crash, 1 s, crash: rolled back as v4, with v2's image and config, at full scale.
        var after = await app.WaitForInstancesAsync(
            l => l.Count(i => Running(i) && i.GetProperty("release").GetInt32() == 4) == 2 && l.Count == 2, TimeSpan.FromSeconds(120));

        Assert.Equal(2, after.Count(i => Running(i) && i.GetProperty("release").GetInt32() == 4));
        var releases = AppUnderTest.Must(await app.PaasAsync("releases"));
        Assert.Contains("Automatic rollback to v2: v3 crashed 3 times in a row after its deploy", releases.Stdout);
        var events = AppUnderTest.Must(await app.PaasAsync("events"));
        Assert.Contains("Automatic rollback to v2", events.Stdout);
        Assert.Contains("of v3 crashed: exited with code 124", events.Stdout);
        Assert.StartsWith("200 Hello from python", await app.GetAsync());
        // And it stays: v4 is not rolled back, v3 is not restarted.
        await Task.Delay(TimeSpan.FromSeconds(8));
        var later = await app.InstancesAsync();
        Assert.Equal(2, later.Count(i => Running(i) && i.GetProperty("release").GetInt32() == 4));
        Assert.DoesNotContain(later, i => i.GetProperty("release").GetInt32() == 3);
    }

    [Fact]
    public async Task RollingDeploy_UnderLoad_FailsNoRequest_AndABrokenReleaseLeavesTheOldOneAtFullScale()
    {
        var app = await AppUnderTest.PushedAsync(platform, "roll", "python");
        AppUnderTest.Must(await app.PaasAsync("ps:scale", "web=3"));

        // A bounded load loop through the router on loopback while v3 rolls out (v1 is the initial release, v2 the first push).
        File.AppendAllText(Path.Combine(app.WorkTree, "app.py"), "\n# v2\n");
        await platform.CommitAllAsync(app.WorkTree, "v2");
        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        var requests = 0;
        // Bounded by time, not by count: a count could run out before the rollout it watches has finished.
        var loadDeadline = DateTime.UtcNow.AddMinutes(5);
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && DateTime.UtcNow < loadDeadline)
            {
                requests++;
                var body = await app.GetAsync();
                if (!body.StartsWith("200", StringComparison.Ordinal))
                    failures.Add(body);
            }
        });
        var push = await platform.GitAsync(app.WorkTree, "push", "paas", "main");
        var loadRanThroughout = !load.IsCompleted;
        stop.Cancel();
        await load;
        Assert.True(loadRanThroughout, "the load loop ended before the rollout did");

        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.True(requests > 50, $"only {requests} requests were made");
        Assert.True(failures.Count == 0, $"{failures.Count} of {requests} requests failed: {string.Join(" | ", failures.Take(3))}");
        var rolled = await app.InstancesAsync();
        Assert.Equal(3, rolled.Count(i => Running(i) && i.GetProperty("release").GetInt32() == 3));

        // v4 never listens on $PORT: the rollout stops and v3 keeps serving with all three instances.
        File.WriteAllText(Path.Combine(app.WorkTree, "Procfile"), "web: sleep 1000\n");
        await platform.CommitAllAsync(app.WorkTree, "v3 broken");
        var broken = await platform.GitAsync(app.WorkTree, "push", "paas", "main");

        Assert.NotEqual(0, broken.ExitCode);
        Assert.Contains("never became healthy", broken.Stderr);
        var kept = await app.WaitForInstancesAsync(l => l.Count == 3, TimeSpan.FromSeconds(10));
        Assert.Equal(3, kept.Count(i => Running(i) && i.GetProperty("release").GetInt32() == 3));
        Assert.StartsWith("200 Hello from python", await app.GetAsync());
    }

    [Fact]
    public async Task LostCell_ItsInstancesArePlacedOnTheOtherCells()
    {
        var app = await AppUnderTest.PushedAsync(platform, "lost", "python");
        AppUnderTest.Must(await app.PaasAsync("ps:scale", "web=3"));
        var before = await app.InstancesAsync();
        var lostCell = before.First().GetProperty("cell").GetString()!;

        // The host vanishes: its agent and its containers.
        platform.KillCell(lostCell);
        using (var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient())
        {
            var theirs = await docker.Containers.ListContainersAsync(new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"paas.cell={lostCell}"] = true, [$"paas.platform={platform.PlatformId}"] = true } },
            });
            foreach (var c in theirs)
                await docker.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true });
        }
        try
        {
            var after = await app.WaitForInstancesAsync(
                l => l.Count(Running) == 3 && l.All(i => i.GetProperty("cell").GetString() != lostCell), TimeSpan.FromSeconds(30));

            Assert.Equal(3, after.Count(Running));
            Assert.DoesNotContain(after, i => i.GetProperty("cell").GetString() == lostCell);
            Assert.StartsWith("200 Hello from python", await app.GetAsync());
            var cells = await platform.PaasAsync(null, "cells", "--json");
            Assert.Contains("\"state\": \"lost\"", cells.Stdout);
        }
        finally
        {
            await platform.StartCellAsync(lostCell);
            await platform.WaitForCellsAsync(PlatformFixture.CellLayout.Count);
        }
    }

    [Fact]
    public async Task Scale_BadInput_IsRefusedWithOneSentence_AndChangesNothing()
    {
        var app = await AppUnderTest.PushedAsync(platform, "badscale", "python");
        var unpushed = PlatformFixture.UniqueAppName("empty");
        AppUnderTest.Must(await platform.PaasAsync(null, "apps:create", unpushed));

        var unknownType = await app.PaasAsync("ps:scale", "worker=2");
        var negative = await app.PaasAsync("ps:scale", "web=-1");
        var absurd = await app.PaasAsync("ps:scale", "web=5000");
        var tooBig = await app.PaasAsync("ps:scale", "web=1:900G");
        var noRelease = await platform.PaasAsync(null, "ps:scale", "web=2", "-a", unpushed);

        Assert.Contains("has no process type 'worker'", unknownType.Stderr);
        Assert.Contains("is not of the form TYPE=QUANTITY", negative.Stderr);
        Assert.Contains("must be between 0 and 100", absurd.Stderr);
        Assert.Contains("fits no cell", tooBig.Stderr);
        Assert.Contains("has no release yet", noRelease.Stderr);
        Assert.All(new[] { unknownType, negative, absurd, tooBig, noRelease }, r => Assert.NotEqual(0, r.ExitCode));
        var instances = await app.InstancesAsync();
        Assert.Single(instances);
        Assert.Equal(512L * 1024 * 1024, instances[0].GetProperty("memory_limit_bytes").GetInt64());
    }

    [Fact]
    public async Task Scale_BeyondCapacity_PlacesWhatFits_AndSaysWhatIsShort()
    {
        var app = await AppUnderTest.PushedAsync(platform, "full", "python");

        // Three cells of 24, 24 and 16 GB hold at most five 12 GB instances.
        var scaled = await app.PaasAsync("ps:scale", "web=9:12G");

        Assert.NotEqual(0, scaled.ExitCode);
        Assert.Matches(@"[4-9] of 9 web instances unplaced: insufficient memory: \d+ MB short on the emptiest cell", scaled.Stderr);
        var placed = (await app.InstancesAsync()).Where(Running).ToList();
        Assert.InRange(placed.Count, 1, 5);
        Assert.All(placed, i => Assert.Equal(12L * 1024 * 1024 * 1024, i.GetProperty("memory_limit_bytes").GetInt64()));
        Assert.StartsWith("200 Hello from python", await app.GetAsync());
        AppUnderTest.Must(await app.PaasAsync("ps:scale", "web=0"));
    }
}
