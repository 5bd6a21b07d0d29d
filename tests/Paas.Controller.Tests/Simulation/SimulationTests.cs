using Paas.Controller.Formation;
using Paas.Controller.Instances;

namespace Paas.Controller.Tests.Simulation;

/// <summary>
/// Convergence cases the end-to-end suite cannot provoke on demand, run on simulated cells and a manual clock
/// (see <see cref="Simulation"/>). Each asserts what a user would see: how many instances serve, of which
/// release, and that the router sends traffic to exactly those. Each was seen failing with the rule it
/// guards broken: the crash path ignoring the backoff (90 starts, not 60), no crash-loop rollback (v2
/// restarted for ever), duplicates not stopped (4 running, 3 wanted), a scale not waiting for the deploy's
/// lock (7 running, 5 wanted), and a cell lost mid-start rolling the deploy back (before InstanceManager re-placed it).
/// </summary>
public sealed class SimulationTests : IDisposable
{
    private readonly Simulation _sim = new(cells: 3);

    public void Dispose() => _sim.Dispose();

    /// <summary>Processes started: new instances, and crashed ones started again in place.</summary>
    private int TotalStarts => _sim.Fleet.Cells.Sum(c => c.Starts + c.Restarts);

    [Fact]
    public async Task ACrashedInstance_IsStartedAgainInPlace_AndEachCrashOfItCountsTowardsBackoff()
    {
        await _sim.CreateAppAsync("app", web: 2);
        var victim = _sim.Running("app").Single(i => i.Index == 1);
        var created = _sim.Fleet.Cells.Sum(c => c.Starts);

        // The first crash: its own container again, at once, on its cell, routed at its new address; no new instance.
        await _sim.CrashAsync(victim);
        _sim.AssertServing("app", 2, release: 1);
        var again = _sim.Running("app").Single(i => i.Index == 1);
        Assert.Equal((victim.InstanceId, victim.Cell), (again.InstanceId, again.Cell));
        Assert.NotEqual(victim.Address, _sim.Router.RoutesOf("app").Single(r => r.Instance == victim.InstanceId).Address);
        Assert.Equal(created, _sim.Fleet.Cells.Sum(c => c.Starts));
        Assert.Equal(1, _sim.Fleet[victim.Cell].Restarts);
        Assert.Equal(1, _sim.Crashes.Get("app", "web", 1)!.Restarts);

        // The same container crashes again 2 s later: a second crash in a row (same instance id, another run),
        // so it waits out the 1 s backoff rather than restarting at once.
        _sim.Time.Advance(TimeSpan.FromSeconds(2));
        await _sim.CrashAsync(again);
        Assert.Equal(2, _sim.Crashes.Get("app", "web", 1)!.CrashesInARow);
        Assert.DoesNotContain(_sim.Running("app"), i => i.Index == 1);
        _sim.Time.Advance(TimeSpan.FromMilliseconds(1100));
        await _sim.PassAsync();
        _sim.AssertServing("app", 2, release: 1);
        Assert.Equal(2, _sim.Crashes.Get("app", "web", 1)!.Restarts);
    }

    [Fact]
    public async Task CrashStorm_EveryInstanceReplacedOnce_NoDuplicates_SecondStormWaitsOutItsBackoff()
    {
        var apps = Enumerable.Range(1, 10).Select(i => $"app{i}").ToList();
        foreach (var app in apps)
            await _sim.CreateAppAsync(app, web: 3);
        var startsBefore = TotalStarts;

        // Every instance of every app dies at once; the agents' events arrive together.
        await Task.WhenAll(apps.SelectMany(_sim.Running).ToList().Select(_sim.CrashAsync));
        foreach (var app in apps)
            _sim.AssertServing(app, 3, release: 1);
        Assert.Equal(startsBefore + 30, TotalStarts);

        // The replacements die at once too: a second crash in a row waits 1 s (RestartBackoff), event or pass.
        _sim.Time.Advance(TimeSpan.FromSeconds(2));
        await Task.WhenAll(apps.SelectMany(_sim.Running).ToList().Select(_sim.CrashAsync));
        _sim.Time.Advance(TimeSpan.FromMilliseconds(500));
        await _sim.PassAsync();
        Assert.Equal(startsBefore + 30, TotalStarts);
        Assert.All(apps, app => Assert.Empty(_sim.Running(app)));

        _sim.Time.Advance(TimeSpan.FromMilliseconds(600));
        await _sim.PassAsync();
        foreach (var app in apps)
            _sim.AssertServing(app, 3, release: 1);
        Assert.Equal(startsBefore + 60, TotalStarts);
    }

    [Fact]
    public async Task CellLostWhileARollingDeployStartsOnIt_DeployCompletesOnTheOtherCellsAtFullScale()
    {
        await _sim.CreateAppAsync("app", web: 3);
        var v2Starts = 0;
        foreach (var cell in _sim.Fleet.Cells)
        {
            var name = cell.Name;
            // The second instance of v2 is being created when its cell drops off the network.
            cell.BeforeStart = spec =>
            {
                if (spec.Release == 2 && Interlocked.Increment(ref v2Starts) == 2)
                    _sim.Fleet.Lose(name);
                return Task.CompletedTask;
            };
        }

        var deployed = await _sim.DeployAsync("app", "v2");

        Assert.True(deployed, _sim.Log());
        Assert.Equal(2, _sim.State.CurrentRelease("app")!.Version);
        _sim.AssertServing("app", 3, release: 2);
        Assert.Equal(2, _sim.Running("app").Select(i => i.Cell).Distinct().Count());
        await _sim.PassAsync();
        _sim.AssertServing("app", 3, release: 2);
    }

    [Fact]
    public async Task ReleaseThatPassesItsFirstCheckThenCrashesRepeatedly_IsRolledBackOnceAtFullScale()
    {
        await _sim.CreateAppAsync("app", web: 3, image: "good");
        Assert.True(await _sim.DeployAsync("app", "bad"), _sim.Log());
        _sim.AssertServing("app", 3, release: 2);

        // Every instance of v2 exits 3 s after it starts, each time it is started, until something gives.
        for (var round = 0; round < 10 && _sim.State.Events("app", 100).All(e => e.Kind != "rollback"); round++)
        {
            _sim.Time.Advance(TimeSpan.FromSeconds(3));
            await Task.WhenAll(_sim.Running("app").Where(i => i.Release == 2).ToList().Select(_sim.CrashAsync));
            await _sim.PassAsync();
        }

        Assert.True(await Simulation.EventuallyAsync(() =>
            _sim.State.CurrentRelease("app") is { Version: 3 } && _sim.Running("app") is { Count: 3 } running && running.All(i => i.Release == 3)), _sim.Log());
        var current = _sim.State.CurrentRelease("app")!;
        Assert.Equal("good", current.Image);
        Assert.StartsWith(CrashLoopRollback.DescriptionPrefix + " to v1", current.Description);
        await _sim.PassAsync();
        _sim.AssertServing("app", 3, release: 3);

        // It stays there: no second rollback, no restarts of v2, however long it runs.
        for (var i = 0; i < 5; i++)
        {
            _sim.Time.Advance(TimeSpan.FromMinutes(1));
            await _sim.PassAsync();
        }
        _sim.AssertServing("app", 3, release: 3);
        Assert.Single(_sim.State.Events("app", 100), e => e.Kind == "rollback");
        Assert.Equal(3, _sim.State.ListReleases("app").Count);
    }

    [Fact]
    public async Task PartitionHeals_TheReturningCellsOldInstancesAreStopped_CountIsTheFormation()
    {
        await _sim.CreateAppAsync("app", web: 3);
        var lost = _sim.Running("app").First().Cell;
        _sim.Fleet.Lose(lost);
        await _sim.PassAsync();
        _sim.AssertServing("app", 3, release: 1);
        Assert.Equal(4, _sim.RunningAnywhere("app").Count); // the lost cell's instance still runs, cut off

        _sim.Fleet.Return(lost);
        Assert.Equal(4, _sim.Running("app").Count);
        await _sim.PassAsync();

        _sim.AssertServing("app", 3, release: 1);
        Assert.Equal(3, _sim.RunningAnywhere("app").Count);
    }

    [Fact]
    public async Task ScaleWhileADeployRolls_EndsAtTheNewScale_AllOnTheNewRelease()
    {
        await _sim.CreateAppAsync("app", web: 3);
        Task<ScaleOutcome>? scale = null;
        foreach (var cell in _sim.Fleet.Cells)
        {
            // `paas ps:scale web=5` arrives while the first instance of v2 is being created.
            cell.BeforeStart = spec =>
            {
                if (spec.Release == 2)
                    Interlocked.CompareExchange(ref scale, Task.Run(() => _sim.Formation.ScaleAsync("app", [new FormationChange("web", 5, null)], "sim", CancellationToken.None)), null);
                return Task.CompletedTask;
            };
        }

        Assert.True(await _sim.DeployAsync("app", "v2"), _sim.Log());
        Assert.NotNull(scale);
        var outcome = await scale;

        Assert.Empty(outcome.Problems);
        _sim.AssertServing("app", 5, release: 2);
        await _sim.PassAsync();
        _sim.AssertServing("app", 5, release: 2);
    }
}
