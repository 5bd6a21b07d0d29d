using Paas.Controller.Formation;
using Paas.Controller.Instances;

namespace Paas.Controller.Tests.Simulation;

/// <summary>
/// Convergence cases the end-to-end suite cannot provoke on demand, run on simulated cells and a manual clock
/// (see <see cref="Simulation"/>). Each asserts what a user would see: how many instances serve, of which
/// release, and that the router sends traffic to exactly those. Each was seen failing with the rule it
/// guards broken: the crash path ignoring the backoff (90 starts, not 60), no crash-loop rollback (v2
/// restarted for ever), duplicates not stopped (4 running, 3 wanted), a scale not waiting for the deploy's
/// lock (7 running, 5 wanted), a cell lost mid-start rolling the deploy back (before InstanceManager re-placed it), and
/// a formation written without a change stamp (the incremental pass missed the scale: 1 running, 3 wanted), and
/// every cell lost then back with the instance's own cell last (a replacement started on a peer, the original stopped).
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
        // A cell is lost once silent this long; the controller has run longer than that (CellReturnGrace holds back at its start).
        _sim.Time.Advance(_sim.Fleet.LostAfter);
        await _sim.PassAsync();
        _sim.AssertServing("app", 3, release: 1);
        Assert.Equal(4, _sim.RunningAnywhere("app").Count); // the lost cell's instance still runs, cut off

        _sim.Fleet.Return(lost);
        Assert.Equal(4, _sim.Running("app").Count);
        await _sim.PassAsync();

        _sim.AssertServing("app", 3, release: 1);
        Assert.Equal(3, _sim.RunningAnywhere("app").Count);
    }

    /// <summary>Every agent silent (a controller-wide outage: the agents restarted, or Redis was out), the app's instance still running; returns the instance.</summary>
    private async Task<Paas.Core.Instances.InstanceState> EveryCellLostAsync()
    {
        await _sim.CreateAppAsync("app", web: 1);
        _sim.Time.Advance(TimeSpan.FromMinutes(1)); // the controller has run a while
        await _sim.PassAsync();
        var original = Assert.Single(_sim.Running("app"));
        foreach (var cell in _sim.Fleet.Cells)
            _sim.Fleet.Lose(cell.Name);
        _sim.Time.Advance(_sim.Fleet.LostAfter);
        await _sim.PassAsync();
        // Nowhere to go: it stays routed, as a lost cell's instance may well still serve.
        Assert.Equal([original.InstanceId], _sim.Router.RoutesOf("app").Select(r => r.Instance));
        // The agents come back one by one, the instance's own cell behind its peers.
        foreach (var cell in _sim.Fleet.Cells.Where(c => c.Name != original.Cell))
            _sim.Fleet.Return(cell.Name);
        await _sim.PassAsync();
        _sim.Time.Advance(TimeSpan.FromSeconds(1));
        await _sim.PassAsync();
        return original;
    }

    [Fact]
    public async Task EveryCellLost_TheInstancesCellBackAfterItsPeers_TheInstanceIsAdoptedNotReplaced()
    {
        var startsBefore = TotalStarts;
        var original = await EveryCellLostAsync();

        _sim.Fleet.Return(original.Cell);
        await _sim.PassAsync();

        // RestartTests' flake: a peer live first got a replacement, and the original was stopped as its duplicate.
        Assert.True(TotalStarts == startsBefore + 1, $"{TotalStarts - startsBefore - 1} replacement(s) started\n{_sim.Log()}");
        Assert.Equal(original.InstanceId, Assert.Single(_sim.RunningAnywhere("app")).InstanceId);
        _sim.AssertServing("app", 1, release: 1);
    }

    [Fact]
    public async Task EveryCellLost_TheInstancesCellNeverBack_ItIsReplacedOnceItsPeersHadTheirGrace()
    {
        var startsBefore = TotalStarts;
        var original = await EveryCellLostAsync();
        Assert.Equal(startsBefore + 1, TotalStarts);

        _sim.Time.Advance(_sim.Fleet.LostAfter);
        await _sim.PassAsync();

        _sim.AssertServing("app", 1, release: 1);
        Assert.NotEqual(original.Cell, Assert.Single(_sim.Running("app")).Cell);
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

    [Fact]
    public async Task IncrementalPass_TakesTheAppsAnotherControllerChanged_AndOnlyThose_WithoutListingEveryCell()
    {
        await _sim.CreateAppAsync("quiet", web: 2);
        await _sim.CreateAppAsync("scaled", web: 1);
        await _sim.CreateAppAsync("deleted", web: 1);
        await _sim.PassAsync();
        Assert.Empty(await _sim.Converger.ConvergeChangedAsync(CancellationToken.None));

        // Another controller sharing the store scales one app and deletes another: the writes alone, nothing calls this converger.
        _sim.State.SetFormation("scaled", [new Paas.Controller.State.FormationEntry("web", 3, null)]);
        _sim.State.DeleteApp("deleted");
        var everyCell = _sim.Fleet.Listings.Lists;
        var oneApp = _sim.Fleet.AppListings.Lists;
        var passed = await _sim.Converger.ConvergeChangedAsync(CancellationToken.None);

        Assert.Equal(["deleted", "scaled"], passed.Order());
        _sim.AssertServing("scaled", 3, release: 1);
        Assert.Empty(_sim.RunningAnywhere("deleted"));
        _sim.AssertServing("quiet", 2, release: 1);
        Assert.Equal(everyCell, _sim.Fleet.Listings.Lists); // one app's listing per app, never every app's
        Assert.Equal(oneApp + 2, _sim.Fleet.AppListings.Lists);
        Assert.Empty(await _sim.Converger.ConvergeChangedAsync(CancellationToken.None));
    }
}
