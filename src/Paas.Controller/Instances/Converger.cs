using System.Threading.Channels;
using Paas.Controller.Cells;
using Paas.Controller.Routing;
using Paas.Controller.State;
using Paas.Core.Cells;
using Paas.Core.Configuration;
using Paas.Core.Instances;
using Paas.Core.Releases;
using Paas.Core.Routing;

namespace Paas.Controller.Instances;

/// <summary>
/// Makes what runs equal what is desired (the current release at the app's formation), from state read
/// back from the cells. Three inputs (as Diego's rep and converger): cell events (an instance died, a cell
/// lost or back) wake it for that app at once; every <see cref="PaasSettings.ConvergeInterval"/> an incremental
/// pass takes the apps whose desired state changed (the store's change stamps) or whose pass failed; and every
/// <see cref="PaasSettings.FullConvergeInterval"/> a full pass heals anything nothing announced. It adopts running
/// instances after a restart without restarting them, replaces crashed ones with backoff, re-places the
/// instances of lost cells, stops duplicates and orphans, and rebuilds the routing table.
/// </summary>
public sealed class Converger(
    IStateStore database,
    IDomainStore domains,
    ICellFleet cells,
    InstanceManager instances,
    IRoutePublisher routes,
    CrashTracker crashes,
    AppLocks locks,
    ICellEvents events,
    PaasSettings settings,
    TimeProvider time,
    ILogger<Converger> logger,
    IServiceProvider? services = null) : BackgroundService
{
    private readonly Channel<string> _wake = Channel.CreateUnbounded<string>();
    private readonly CrashLoopRollback _crashLoops = CrashLoopRollback.Default;
    /// <summary>Apps with an automatic rollback under way (to the version given), so a crash storm starts one.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _rollingBack = new();
    private CancellationToken _stopping;
    /// <summary>The store's change stamp every app's changes up to which a finished pass has taken in (<see cref="IStateStore.AppsChangedSince"/>).</summary>
    private long _stamp;
    /// <summary>Apps whose own pass failed: the next incremental pass takes them again.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _dirty = new(StringComparer.Ordinal);
    /// <summary>Holds back re-placing lost cells' instances while their peers are still coming back (a cell's lost timeout long).</summary>
    private readonly CellReturnGrace _returns = new(cells.LostAfter, time);

    /// <summary>Asks for a pass over one app as soon as possible.</summary>
    public void Wake(string app) => _wake.Writer.TryWrite(app);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        await events.SubscribeAsync(OnCellEventAsync);
        // The periodic passes and the event-driven passes run side by side: a crash must not wait behind a
        // slow full pass. The per-app lock keeps two passes off the same app.
        var periodic = Task.Run(async () =>
        {
            // Every tick the incremental pass: what changed, O(changed apps), so the tick can stay short. The full
            // pass (every app, each cell listed once, the routes hash reread) is kept at a longer interval as the
            // safety net, as Diego keeps its converger beside the rep's events: an event can be lost (pub/sub drops
            // messages while Redis reconnects; an agent restarted between a crash and its report), Redis's routing
            // data can be flushed, and only a look at everything finds what nothing announced.
            using var timer = new PeriodicTimer(settings.ConvergeInterval, time);
            DateTimeOffset? lastFull = null;
            do
            {
                var now = time.GetUtcNow();
                if (lastFull is null || now - lastFull >= settings.FullConvergeInterval)
                {
                    if (await GuardedAsync(() => ConvergeAllAsync(stoppingToken)))
                        lastFull = now;
                }
                else
                {
                    await GuardedAsync(() => ConvergeChangedAsync(stoppingToken));
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }, stoppingToken);
        var lostCells = Task.Run(() => WatchForLostCellsAsync(stoppingToken), stoppingToken);
        await foreach (var app in _wake.Reader.ReadAllAsync(stoppingToken))
        {
            if (database.FindApp(app) is null)
                continue;
            _ = Task.Run(async () =>
            {
                if (!await GuardedAsync(() => ConvergeOneAsync(app, stoppingToken)))
                    _dirty.TryAdd(app, 0);
            }, stoppingToken);
        }
        await Task.WhenAll(periodic, lostCells);
    }

    /// <summary>
    /// How often the cells' alive keys are looked at, so a lost cell's instances are re-placed as soon as it
    /// is declared lost rather than at the next full pass. Two Redis reads a look: at a second, detection
    /// took half a second more on average than the lost-cell timeout itself.
    /// </summary>
    public static readonly TimeSpan LostCellWatch = TimeSpan.FromMilliseconds(200);

    private async Task WatchForLostCellsAsync(CancellationToken stoppingToken)
    {
        var live = new HashSet<string>();
        var lostBefore = new HashSet<string>();
        using var timer = new PeriodicTimer(LostCellWatch, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await GuardedAsync(async () =>
            {
                var status = await cells.StatusAsync();
                _returns.Observe(status.Select(s => (s.Registration.Name, s.Live)));
                foreach (var (lost, _) in status.Where(s => !s.Live && live.Contains(s.Registration.Name)))
                {
                    logger.LogWarning("Cell {Cell} missed its heartbeats for {Seconds} s: placing its instances elsewhere", lost.Name, cells.LostAfter.TotalSeconds);
                    foreach (var app in lost.Instances.Select(i => i.App).Distinct())
                        Wake(app);
                }
                // A cell back from a partition brings back instances whose slots were filled elsewhere meanwhile.
                foreach (var (back, _) in status.Where(s => s.Live && lostBefore.Contains(s.Registration.Name)))
                {
                    logger.LogInformation("Cell {Cell} is back: passing over its apps for duplicates", back.Name);
                    foreach (var app in back.Instances.Select(i => i.App).Distinct())
                        Wake(app);
                }
                live = status.Where(s => s.Live).Select(s => s.Registration.Name).ToHashSet();
                lostBefore = status.Where(s => !s.Live).Select(s => s.Registration.Name).ToHashSet();
            });
        }
    }

    /// <returns>False when the pass failed.</returns>
    private async Task<bool> GuardedAsync(Func<Task> pass)
    {
        try
        {
            await pass();
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The next pass heals whatever this one could not; a Redis or engine hiccup must not stop the loop.
            logger.LogWarning(e, "Convergence pass failed");
            return false;
        }
    }

    /// <summary>A cell reported that an instance died: unroute it and refill its slot (the returned task ends when both are done).</summary>
    public Task OnCellEventAsync(CellEvent died)
    {
        // Take it out of the routing table right away: the router must not send traffic to a dead process.
        var unrouted = routes.RemoveRouteAsync(died.Instance);
        var replaced = GuardedAsync(() => ReplaceCrashedAsync(died, _stopping));
        return Task.WhenAll(GuardedAsync(() => unrouted), replaced);
    }

    /// <summary>
    /// The crash fast path: a cell reported that an instance died, so its slot is refilled now, on the same
    /// cell when it has room (its engine has the image), while the dead container is removed beside it;
    /// no listing of every cell, no waiting for the next pass. Anything unusual (an old release's instance,
    /// a slot scaled away, a slot in restart backoff, no room, a failed start) goes to the general pass.
    /// </summary>
    private async Task ReplaceCrashedAsync(CellEvent died, CancellationToken cancellationToken)
    {
        if (database.FindApp(died.App) is null)
            return;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var _ = await locks.AcquireAsync(died.App, cancellationToken);
        var locked = clock.ElapsedMilliseconds;
        var current = database.CurrentRelease(died.App);
        var uptime = died.StartedAt is { } started ? died.At - started : TimeSpan.Zero;
        RecordCrash(died.App, CrashTracker.CrashKey(died.Instance, died.StartedAt), died.Process, died.Index, died.Release, died.ExitCode, died.OomKilled, uptime);
        var wanted = current is not null && current.Version == died.Release
            && database.Formation(died.App).TryGetValue(died.Process, out var entry) && died.Index <= entry.Quantity;
        if (!wanted || _rollingBack.ContainsKey(died.App) || !crashes.MayStart(died.App, died.Process, died.Index))
        {
            Wake(died.App);
            return;
        }
        var cleanup = Task.CompletedTask;
        try
        {
            // First its own container, started again where it is (as Diego and the kubelet restart a crashed
            // container): no placement, no create, the image and writable layer already there. It still counts as
            // a crash of its slot (recorded above, with the backoff and the crash-loop rollback that follow), and
            // a container the controller is stopping is never started again (its cell refuses).
            var replacement = await instances.RestartInPlaceAsync(current!, died.Cell, died.Instance, died.Process, cancellationToken);
            var how = "restarted in place";
            if (replacement is null)
            {
                // Removed beside the start: removed after it, the dead container was still listed (crashed) next to its
                // replacement once that was routed (HealthTests' out-of-memory case saw both).
                cleanup = RemoveDeadAsync(died);
                replacement = await instances.StartAsync(current!, died.Process, died.Index, [], [], _ => Task.CompletedTask, cancellationToken, preferredCell: died.Cell);
                how = "replaced";
            }
            logger.LogInformation("Crashed {Process}.{Index} of {App} {How}: {Instance} on cell {Cell} in {Ms} ms (the app's lock after {Locked} ms; {Late} ms from the agent's report to here)",
                died.Process, died.Index, died.App, how, replacement.InstanceId, replacement.Cell, clock.ElapsedMilliseconds, locked, (long)(time.GetUtcNow() - died.At).TotalMilliseconds - clock.ElapsedMilliseconds);
        }
        catch (Exception e) when (e is DeployException or CellUnavailableException)
        {
            logger.LogWarning("Replacing crashed {Process}.{Index} of {App} failed: {Reason}", died.Process, died.Index, died.App, e.Message);
            Wake(died.App);
        }
        await cleanup;
    }

    private async Task RemoveDeadAsync(CellEvent died)
    {
        try
        {
            if (await cells.FindAsync(died.Cell) is { } cell)
                await cell.StopAsync(died.Instance, TimeSpan.FromSeconds(1), CancellationToken.None);
        }
        catch (Exception e) when (e is CellUnavailableException or DeployException or HttpRequestException)
        {
            // The next full pass removes it.
            logger.LogInformation("Could not remove crashed {Instance} yet: {Reason}", died.Instance, e.Message);
        }
    }

    /// <summary>Counts a crash once (the event and a pass may both see it), tells `paas events`, and rolls a crash-looping new release back.</summary>
    private void RecordCrash(string app, string crashKey, string process, int index, int release, long exitCode, bool oomKilled, TimeSpan uptime)
    {
        if (!crashes.Record(crashKey, app, process, index, exitCode, oomKilled, uptime, release))
            return;
        var why = oomKilled ? "killed for exceeding its memory limit" : $"exited with code {exitCode}";
        database.AddEvent(app, "platform", "crash", $"{process}.{index} of v{release} crashed: {why}");
        logger.LogInformation("{App} {Process}.{Index} crashed: {Why}", app, process, index, why);
        if (database.CurrentRelease(app) is not { } current || crashes.Get(app, process, index) is not { } record)
            return;
        // A release without a build (the app's first deploy came after it) has nothing to go back to.
        var previous = database.ListReleases(app, 2).Skip(1).FirstOrDefault(r => r.HasBuild);
        if (_crashLoops.Decide(current, previous, record, release, time.GetUtcNow()) is not { } target || services is null)
            return;
        if (!_rollingBack.TryAdd(app, target))
            return;
        var reason = CrashLoopRollback.Describe(current.Version, target, $"{process}.{index}", why, record.CrashesInARow);
        database.AddEvent(app, "platform", "rollback", reason);
        logger.LogWarning("{App}: {Reason}", app, reason);
        // After this pass lets go of the app's lock: the rollback rolls out like a deploy, taking the lock itself.
        _ = Task.Run(async () =>
        {
            try
            {
                // Resolved here, not injected: the rollback rolls out through the Deployer, which converges through this.
                var releases = services.GetRequiredService<Releases.ReleaseService>();
                await releases.RollbackAsync(app, target, "platform", null, _stopping, reason);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                database.AddEvent(app, "platform", "rollback", $"The automatic rollback to v{target} failed: {e.Message}");
                logger.LogWarning(e, "Automatic rollback of {App} to v{Target} failed", app, target);
            }
            finally
            {
                _rollingBack.TryRemove(app, out _);
                Wake(app);
            }
        });
    }

    /// <summary>
    /// The incremental pass: the apps whose desired state changed since the last finished pass (the store's change
    /// stamps, whichever controller wrote) and those whose own pass failed, each read afresh (its instances from
    /// every cell filtered by the app). With nothing changed it costs one store read and no cell call.
    /// </summary>
    /// <returns>The apps it passed over.</returns>
    public async Task<IReadOnlyList<string>> ConvergeChangedAsync(CancellationToken cancellationToken)
    {
        var (changed, stamp) = database.AppsChangedSince(Interlocked.Read(ref _stamp));
        var apps = changed.ToHashSet(StringComparer.Ordinal);
        foreach (var app in _dirty.Keys)
        {
            if (_dirty.TryRemove(app, out _))
                apps.Add(app);
        }
        // Taken in now, before the passes: a write from here on gets a later stamp, and each pass below reads afresh.
        Interlocked.Exchange(ref _stamp, stamp);
        foreach (var app in apps.Order(StringComparer.Ordinal))
        {
            if (!await GuardedAsync(() => ConvergeOneAsync(app, cancellationToken)))
                _dirty.TryAdd(app, 0);
        }
        return apps.ToList();
    }

    /// <summary>One app's pass under its lock, read afresh; a deleted app's instances are removed as orphans.</summary>
    private async Task ConvergeOneAsync(string app, CancellationToken cancellationToken)
    {
        if (database.FindApp(app) is null)
        {
            // A rename under way owns the old name's instances (see ConvergeAllAsync); they are not orphans.
            if (database.PendingRenames().Any(r => r.From == app))
                return;
            foreach (var orphan in await instances.ListAsync(app, cancellationToken))
            {
                logger.LogInformation("Removing orphan {Instance}: its app {App} no longer exists", orphan.InstanceId, orphan.App);
                await instances.RetireAsync(orphan, drain: false, cancellationToken);
            }
            return;
        }
        using var _ = await locks.AcquireAsync(app, cancellationToken);
        await ConvergeAppAsync(app, _ => Task.CompletedTask, cancellationToken);
    }

    public async Task ConvergeAllAsync(CancellationToken cancellationToken)
    {
        // Renames a controller left half-done (it died, or a step failed): finished before anything below would
        // mistake the instances still labelled with the old name for orphans.
        if (services?.GetService<Apps.AppRename>() is { } renames)
            await renames.FinishPendingAsync(cancellationToken);
        // Every change up to this stamp, and every app dirty now, is covered by this pass once it finishes (its reads come after).
        var (_, stamp) = database.AppsChangedSince(Interlocked.Read(ref _stamp));
        var dirty = _dirty.Keys.ToList();
        var apps = database.ListApps();
        var known = apps.Select(a => a.Name).ToHashSet();
        // A rename under way (its request is replacing them right now) owns the old name's instances and host.
        var renaming = database.PendingRenames().Select(r => r.From).ToHashSet();
        var generations = apps.ToDictionary(a => a.Name, a => locks.Generation(a.Name));
        // Every app's desired state in one read each (not four reads per app), valid for an app while its lock's generation stands.
        var releases = database.CurrentReleases();
        var formations = database.Formations();
        var routeOptions = database.AllRouteOptions();
        var domainsByApp = domains.ListAll().ToLookup(d => d.App, StringComparer.Ordinal);
        IReadOnlyDictionary<string, FormationEntry> noFormation = new Dictionary<string, FormationEntry>();
        // One look at everything per pass, shared by every app's pass: each cell listed once, the routes
        // hash read once, the cells' status once. Per app, a pass then costs what that app has, and one
        // with nothing to change makes no call at all.
        var everything = await cells.ListAsync(cancellationToken);
        var status = await cells.StatusAsync();
        _returns.Observe(status.Select(s => (s.Registration.Name, s.Live)));
        var lost = status.Where(s => !s.Live).SelectMany(s => s.Registration.Instances).ToList();
        await routes.ReloadAsync();
        var hosts = await routes.HostsAsync();
        var appOptions = await routes.AppOptionsAsync();
        foreach (var orphan in everything.Where(i => !known.Contains(i.App) && !renaming.Contains(i.App)))
        {
            logger.LogInformation("Removing orphan {Instance}: its app {App} no longer exists", orphan.InstanceId, orphan.App);
            await instances.RetireAsync(orphan, drain: false, cancellationToken);
        }
        // Hosts of apps that no longer exist (a rename that died before moving its host, a destroy cut short) answer 404.
        foreach (var (host, owner) in hosts.Where(h => !known.Contains(h.Value) && !renaming.Contains(h.Value)))
        {
            if (database.FindApp(owner) is not null)
                continue; // created since the list was read
            logger.LogInformation("Removing host {Host}: its app {App} no longer exists", host, owner);
            await routes.RemoveHostAsync(host);
        }
        var byApp = everything.ToLookup(i => i.App);
        var lostByApp = lost.ToLookup(i => i.App);
        foreach (var app in apps)
        {
            // Set again only when Redis lacks it (it was flushed), so passes do not churn every router's table.
            foreach (var host in domainsByApp[app.Name].Select(d => d.Hostname).Prepend(settings.AppHost(app.Name)))
            {
                if (hosts.GetValueOrDefault(host) != app.Name)
                    await routes.SetHostAsync(host, app.Name);
            }
            // Routing options likewise: written when Redis lacks them or holds others (flushed, or a write lost).
            var options = routeOptions.GetValueOrDefault(app.Name) ?? AppRouteOptions.None;
            var published = appOptions.GetValueOrDefault(app.Name);
            if (options == AppRouteOptions.None ? published is not null : published != RoutingJson.Write(options))
                await routes.SetAppOptionsAsync(app.Name, options);
            using var _ = await locks.AcquireAsync(app.Name, cancellationToken);
            // Someone changed the app since the snapshot (a scale, a deploy, a crash replaced): read it afresh.
            var snapshot = locks.Generation(app.Name) == generations[app.Name]
                ? new AppSnapshot(byApp[app.Name].ToList(), lostByApp[app.Name].ToList())
                {
                    Desired = (releases.GetValueOrDefault(app.Name), formations.GetValueOrDefault(app.Name) ?? noFormation),
                }
                : null;
            await ConvergeAppAsync(app.Name, _ => Task.CompletedTask, cancellationToken, snapshot);
        }
        Interlocked.Exchange(ref _stamp, stamp);
        foreach (var app in dirty)
            _dirty.TryRemove(app, out _);
    }

    /// <summary>
    /// What a full pass read once for every app: this app's instances on live cells, and on lost ones; and, when
    /// read, its desired state (current release and formation), so the pass does not read the store per app.
    /// </summary>
    public sealed record AppSnapshot(IReadOnlyList<InstanceState> Instances, IReadOnlyList<InstanceState> OnLostCells)
    {
        public (ReleaseRecord? Current, IReadOnlyDictionary<string, FormationEntry> Formation)? Desired { get; init; }
    }

    /// <summary>
    /// One pass over one app; the caller holds the app's lock. <paramref name="snapshot"/> is what a full
    /// pass already read, valid only if nobody held the app's lock since (<see cref="AppLocks.Generation"/>);
    /// without it the pass reads the cells itself.
    /// </summary>
    public async Task<ConvergeResult> ConvergeAppAsync(string app, Func<string, Task> output, CancellationToken cancellationToken, AppSnapshot? snapshot = null)
    {
        var (current, formation) = snapshot?.Desired ?? (database.CurrentRelease(app), database.Formation(app));
        var all = snapshot?.Instances ?? await instances.ListAsync(app, cancellationToken);
        var started = 0;
        var stopped = 0;
        var problems = new List<string>();

        // Crashed instances: record (once) and unroute now; their slots are refilled below (after backoff),
        // and the dead containers removed only after that, so a replacement does not wait on the cleanup.
        var deadInstances = all.Where(i => !i.Running).ToList();
        var routed = (await routes.RoutesOfAppAsync(app)).Select(r => r.Instance).ToHashSet();
        foreach (var dead in deadInstances)
        {
            RecordCrash(app, CrashTracker.CrashKey(dead.InstanceId, dead.Since), dead.Process, dead.Index, dead.Release, dead.ExitCode ?? -1, dead.OomKilled, time.GetUtcNow() - dead.Since);
            if (routed.Remove(dead.InstanceId))
                await routes.RemoveRouteAsync(dead.InstanceId);
        }
        var running = all.Where(i => i.Running).ToList();

        var desired = current is null
            ? new Dictionary<string, int>()
            : current.ProcessTypes.Keys.ToDictionary(p => p, p => formation.TryGetValue(p, out var f) ? f.Quantity : 0);
        var keep = new List<InstanceState>();
        foreach (var slot in running.Where(i => current is not null && i.Release == current.Version).GroupBy(i => (i.Process, i.Index)))
        {
            // A returning cell can bring back a slot that was re-placed meanwhile: keep the routed one, else the newest.
            var ordered = slot.OrderByDescending(i => routed.Contains(i.InstanceId)).ThenByDescending(i => i.Since).ToList();
            var wanted = desired.TryGetValue(slot.Key.Process, out var quantity) && slot.Key.Index <= quantity;
            foreach (var extra in wanted ? ordered.Skip(1) : ordered)
            {
                logger.LogInformation("Stopping {Instance} of {App}: {Why}", extra.InstanceId, app, wanted ? "duplicate" : "scaled down");
                await instances.RetireAsync(extra, drain: true, cancellationToken);
                stopped++;
            }
            if (wanted)
                keep.Add(ordered[0]);
        }

        // Missing slots of the current release: start them, several at a time.
        var missing = desired.SelectMany(d => Enumerable.Range(1, d.Value).Select(index => (Process: d.Key, Index: index)))
            .Where(s => !keep.Any(i => i.Process == s.Process && i.Index == s.Index))
            .ToList();
        HashSet<(string Process, int Index)> held = missing.Count == 0 ? [] : await HeldForReturningCellsAsync(app, current, snapshot);
        // All at once: InstanceManager bounds the creates per cell, and the health waits overlap.
        var pending = new List<InstanceState>();
        var starts = missing.Select(async slot =>
        {
            if (_rollingBack.ContainsKey(app))
                return; // the rollback replaces the crash-looping release; restarting it meanwhile only adds churn
            if (held.Contains(slot))
                return; // its instance is on a cell that is likely on its way back (CellReturnGrace)
            if (!crashes.MayStart(app, slot.Process, slot.Index))
            {
                var notBefore = crashes.Get(app, slot.Process, slot.Index)!.NotBefore;
                _ = WakeLaterAsync(app, notBefore - time.GetUtcNow());
                return;
            }
            try
            {
                // A crashed slot goes back to its own cell when it has room.
                var crashedOn = deadInstances.FirstOrDefault(d => d.Process == slot.Process && d.Index == slot.Index)?.Cell;
                var instance = await instances.StartAsync(current!, slot.Process, slot.Index, running, pending, output, cancellationToken, crashedOn);
                lock (keep) keep.Add(instance);
                Interlocked.Increment(ref started);
            }
            catch (Exception e) when (e is DeployException or CellUnavailableException)
            {
                lock (problems) problems.Add(e.Message);
            }
        });
        await Task.WhenAll(starts);
        foreach (var dead in deadInstances)
            await instances.RetireAsync(dead, drain: false, cancellationToken);

        // Other releases' instances leave only once the current release runs at full strength, so a
        // half-finished rollout or a failed start never leaves the app with fewer instances than before.
        var complete = desired.All(d => Enumerable.Range(1, d.Value).All(index => keep.Any(i => i.Process == d.Key && i.Index == index)));
        foreach (var old in running.Where(i => current is null || i.Release != current.Version))
        {
            if (!complete && current is not null && old.Process == ProcessType.Web && desired.GetValueOrDefault(ProcessType.Web) > 0)
                continue;
            await instances.RetireAsync(old, drain: true, cancellationToken);
            stopped++;
        }

        // The routing table: exactly the healthy web instances kept, plus those of lost cells whose slots
        // are not filled elsewhere yet (a lost cell's instances may still serve: routers stop using them
        // when they stop answering).
        routed = (await routes.RoutesOfAppAsync(app)).Select(r => r.Instance).ToHashSet();
        var runningIds = running.Concat(keep).Select(i => i.InstanceId).ToHashSet();
        var stranded = (snapshot?.OnLostCells ?? await cells.OnLostCellsAsync(app))
            .Where(i => i.Running && current is not null && i.Release == current.Version && i.Index <= desired.GetValueOrDefault(i.Process)
                && !keep.Any(k => k.Process == i.Process && k.Index == i.Index && routed.Contains(k.InstanceId)))
            .Select(i => i.InstanceId)
            .ToHashSet();
        foreach (var stale in routed.Where(id => !runningIds.Contains(id) && !stranded.Contains(id)))
            await routes.RemoveRouteAsync(stale);
        foreach (var instance in keep.Where(i => i.Process == ProcessType.Web && i.Address is not null && !routed.Contains(i.InstanceId)))
        {
            // Adopted after a restart (or Redis lost its data): route it again only if it still answers.
            var cell = await cells.FindAsync(instance.Cell);
            if (cell is null)
                continue;
            var health = await cell.WaitHealthyAsync(instance, instances.HealthCheckFor(app, instance.Process), TimeSpan.FromSeconds(2), cancellationToken);
            if (health.Healthy)
                await routes.AddRouteAsync(new RouteEntry(instance.InstanceId, app, instance.Process, instance.Release, instance.Address!, instance.Cell));
        }
        foreach (var problem in problems)
            logger.LogWarning("{App}: {Problem}", app, problem);
        return new ConvergeResult(started, stopped, problems);
    }

    /// <summary>
    /// The slots of the current release whose instances are on lost cells that may still come back (<see cref="CellReturnGrace"/>):
    /// not re-placed yet; the app is woken when the grace ends, should they still be missing then.
    /// </summary>
    private async Task<HashSet<(string Process, int Index)>> HeldForReturningCellsAsync(string app, ReleaseRecord? current, AppSnapshot? snapshot)
    {
        if (current is null)
            return [];
        IReadOnlyList<InstanceState> onLostCells;
        if (snapshot is not null)
        {
            onLostCells = snapshot.OnLostCells;
        }
        else
        {
            var status = await cells.StatusAsync();
            _returns.Observe(status.Select(s => (s.Registration.Name, s.Live)));
            onLostCells = status.Where(s => !s.Live).SelectMany(s => s.Registration.Instances).Where(i => i.App == app).ToList();
        }
        var wait = _returns.Remaining;
        if (wait <= TimeSpan.Zero)
            return [];
        var held = onLostCells.Where(i => i.Running && i.Release == current.Version).Select(i => (i.Process, i.Index)).ToHashSet();
        if (held.Count > 0)
        {
            logger.LogInformation("{App}: {Count} instance(s) on lost cells not re-placed for {Seconds:0.0} s more: cells came back just now, theirs may follow",
                app, held.Count, wait.TotalSeconds);
            _ = WakeLaterAsync(app, wait);
        }
        return held;
    }

    private async Task WakeLaterAsync(string app, TimeSpan delay)
    {
        if (delay > TimeSpan.Zero)
            await Task.Delay(delay, time);
        Wake(app);
    }
}
