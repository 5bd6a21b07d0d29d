using System.Security.Cryptography;
using Paas.Controller.Cells;
using Paas.Controller.Operations;
using Paas.Core.Api;
using Paas.Controller.Routing;
using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Instances;
using Paas.Core.Releases;
using Paas.Core.Routing;

namespace Paas.Controller.Instances;

/// <summary>Starts instances of a release and retires old ones, keeping routes in step with health.</summary>
public sealed class InstanceManager(
    ICellFleet cells,
    IRoutePublisher routes,
    IStateStore database,
    Releases.ReleaseImagePushes pushes,
    PaasSettings settings,
    TimeProvider time,
    ILogger<InstanceManager> logger)
{
    /// <summary>One placement decision at a time, so concurrent starts see each other's reservations.</summary>
    private readonly SemaphoreSlim _placement = new(1, 1);
    /// <summary>
    /// Creates and starts in flight per cell: an engine creates containers in parallel well, but twenty at
    /// once on a small host only queue behind each other; the health waits that follow are not bounded.
    /// </summary>
    public const int StartsPerCell = 4;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> _cellStarts = new();
    private readonly RouteBatcher _routeBatches = new(routes, RouteConfirmation, time);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RouteConfirmation = TimeSpan.FromSeconds(5);
    /// <summary>A process without a port to check counts as healthy once it has stayed up this long.</summary>
    private static readonly TimeSpan NonWebSettle = TimeSpan.FromSeconds(1);

    public long MemoryBytesFor(string app, string process) =>
        database.Formation(app).TryGetValue(process, out var entry) && entry.MemoryMb is { } mb ? mb * 1024L * 1024 : settings.AppMemoryBytes;

    public HealthCheckSpec HealthCheckFor(string app, string process) =>
        database.HealthCheck(app, process) ?? HealthCheckSpec.Default with { GraceSeconds = (int)settings.HealthTimeout.TotalSeconds };

    /// <summary>
    /// Starts one instance and returns it only once it is healthy and, for web, routed. On failure the
    /// instance is removed and a <see cref="DeployException"/> says why.
    /// </summary>
    /// <param name="known">Instances already running, for placement; <paramref name="pending"/> those being placed in the same pass.</param>
    /// <param name="preferredCell">Where to start it if that cell has room (a crashed instance's own cell, whose engine has the image).</param>
    public async Task<InstanceState> StartAsync(ReleaseRecord release, string process, int index, IReadOnlyList<InstanceState> known,
        List<InstanceState> pending, Func<string, Task> output, CancellationToken cancellationToken, string? preferredCell = null)
    {
        // A cell that stops answering while an instance starts on it (its host went away, seen by the
        // simulation of a cell lost mid-deploy) costs that attempt, not the deploy: the instance is placed
        // again on another cell. Whatever the lost cell started is a duplicate the converger stops if it returns.
        var avoid = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var attempt = new Attempt();
            try
            {
                return await StartOnceAsync(release, process, index, known, pending, output, cancellationToken,
                    preferredCell is not null && avoid.Contains(preferredCell) ? null : preferredCell, avoid, attempt);
            }
            catch (CellUnavailableException e) when (attempt.Cell is { } failed && avoid.Count < MaxCellsPerStart - 1 && !cancellationToken.IsCancellationRequested)
            {
                avoid.Add(failed);
                await _placement.WaitAsync(CancellationToken.None);
                try
                {
                    pending.RemoveAll(p => p.InstanceId == attempt.InstanceId);
                }
                finally
                {
                    _placement.Release();
                }
                logger.LogWarning("Starting {Process}.{Index} of {App} on cell {Cell} failed ({Reason}); placing it on another cell", process, index, release.App, failed, e.Message);
                await output($" !     {process}.{index}: cell {failed} stopped answering; starting it on another cell");
            }
        }
    }

    /// <summary>How many cells one start tries before it gives up (each one that stops answering is tried once).</summary>
    private const int MaxCellsPerStart = 3;

    /// <summary>Where one attempt placed its instance, for the retry after its cell stopped answering.</summary>
    private sealed class Attempt
    {
        public string? Cell;
        public string? InstanceId;
    }

    private async Task<InstanceState> StartOnceAsync(ReleaseRecord release, string process, int index, IReadOnlyList<InstanceState> known,
        List<InstanceState> pending, Func<string, Task> output, CancellationToken cancellationToken, string? preferredCell, IReadOnlySet<string> avoid, Attempt attempt)
    {
        // Where a start's seconds go, logged per instance: placement, the engine's create and start, the first healthy check, the routers.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var memory = MemoryBytesFor(release.App, process);
        var spec = new InstanceSpec(
            InstanceId: $"{release.App}-{process}-{index}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}",
            App: release.App,
            Release: release.Version,
            Process: process,
            Index: index,
            Image: release.RunImage,
            Command: release.ProcessTypes[process],
            Environment: new Dictionary<string, string>(release.Environment),
            MemoryBytes: memory)
        {
            HealthCheck = process == ProcessType.Web || database.HealthCheck(release.App, process) is not null ? HealthCheckFor(release.App, process) : null,
        };
        Paas.Core.Cells.ICell cell;
        await _placement.WaitAsync(cancellationToken);
        try
        {
            // A process type with volumes goes where they are: the first placement decides, and records, their cell.
            var volumes = database.Volumes(release.App).Where(v => v.Process == process).ToList();
            var pinned = volumes.Select(v => v.Cell).FirstOrDefault(c => c is not null);
            var (chosen, reason) = await cells.PlaceAsync(release.App, memory, known, pending, preferredCell, avoid, pinned);
            cell = chosen ?? throw new DeployException($"{process}.{index} could not be placed: {reason}");
            attempt.Cell = cell.Name;
            attempt.InstanceId = spec.InstanceId;
            foreach (var volume in volumes.Where(v => v.Cell != cell.Name))
                database.SaveVolume(volume with { Cell = cell.Name });
            spec = spec with { Mounts = volumes.Select(v => new VolumeMount(v.Volume, v.Path)).ToList() };
            // Reserve the slot before the slow start, so parallel starts in this pass spread out.
            pending.Add(new InstanceState(spec.InstanceId, "", release.App, release.Version, process, index, cell.Name, true, null, time.GetUtcNow()) { MemoryLimitBytes = memory });
        }
        finally
        {
            _placement.Release();
        }
        Report(release.App, new ProgressEvent(ProgressEvent.Starting, $"{process}.{index}", release.Version, cell.Name));
        try
        {
            // The cell that built the image starts it at once; another waits for the registry push and pulls the digest.
            Func<string, Task> progress = line => output($"       {process}.{index} {line}");
            var (image, pull) = await pushes.ImageForAsync(release, cell.Name, progress, cancellationToken);
            spec = spec with { Image = image };
            if (pull)
                await cell.PrepareImageAsync(image, progress, cancellationToken);
        }
        catch (Exception e) when (e is Paas.Core.Cells.ImageUnavailableException or Paas.Staging.StagingException)
        {
            throw new DeployException($"{process}.{index} could not start on cell {cell.Name}: {e.Message.TrimEnd('.')}.");
        }
        var placed = clock.ElapsedMilliseconds;
        var starts = _cellStarts.GetOrAdd(cell.Name, _ => new SemaphoreSlim(StartsPerCell));
        InstanceState instance;
        await starts.WaitAsync(cancellationToken);
        try
        {
            instance = await cell.StartAsync(spec, cancellationToken);
        }
        finally
        {
            starts.Release();
        }
        var running = clock.ElapsedMilliseconds;
        await output($"       {process}.{index} started on cell {cell.Name}");
        var healthy = await ServeAsync(cell, instance, release, output, clock, cancellationToken);
        logger.LogInformation("Started {Instance} on {Cell}: placed at {Placed} ms, running at {Running} ms, healthy at {Healthy} ms, routed at {Routed} ms",
            instance.InstanceId, cell.Name, placed, running, healthy, clock.ElapsedMilliseconds);
        return instance;
    }

    /// <summary>
    /// Starts a crashed instance's exited container again on its cell (<see cref="Paas.Core.Cells.ICell.RestartAsync"/>)
    /// and returns it once healthy and routed, as <see cref="StartAsync"/> does a new one; null when the cell has
    /// nothing to start again (the caller starts a new instance). Unhealthy: stopped, and a <see cref="DeployException"/>.
    /// </summary>
    public async Task<InstanceState?> RestartInPlaceAsync(ReleaseRecord release, string cellName, string instanceId, string process, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (await cells.FindAsync(cellName) is not { } cell
            || await cell.RestartAsync(instanceId, MemoryBytesFor(release.App, process), cancellationToken) is not { } instance)
            return null;
        var running = clock.ElapsedMilliseconds;
        var healthy = await ServeAsync(cell, instance, release, _ => Task.CompletedTask, clock, cancellationToken);
        logger.LogInformation("Restarted {Instance} in place on {Cell}: running at {Running} ms, healthy at {Healthy} ms, routed at {Routed} ms",
            instance.InstanceId, cell.Name, running, healthy, clock.ElapsedMilliseconds);
        return instance;
    }

    /// <summary>Waits for a started instance's first healthy check (stopping it if none comes), then routes a web one; returns when it was healthy (ms of <paramref name="clock"/>).</summary>
    private async Task<long> ServeAsync(Paas.Core.Cells.ICell cell, InstanceState instance, ReleaseRecord release, Func<string, Task> output,
        System.Diagnostics.Stopwatch clock, CancellationToken cancellationToken)
    {
        var (process, index) = (instance.Process, instance.Index);
        var check = HealthCheckFor(release.App, process);
        var health = process == ProcessType.Web || database.HealthCheck(release.App, process) is not null
            ? await cell.WaitHealthyAsync(instance, check, TimeSpan.FromSeconds(check.GraceSeconds), cancellationToken)
            : await SettleAsync(cell, instance, cancellationToken);
        if (!health.Healthy)
        {
            await cell.StopAsync(instance.InstanceId, TimeSpan.FromSeconds(1), CancellationToken.None);
            Report(release.App, new ProgressEvent(ProgressEvent.Unhealthy, $"{process}.{index}", release.Version, cell.Name, clock.Elapsed.TotalSeconds, health.Reason));
            throw new DeployException($"{process}.{index} of v{release.Version} never became healthy: {health.Reason}");
        }
        var healthy = clock.ElapsedMilliseconds;
        await output($"       {process}.{index} is healthy");
        Report(release.App, new ProgressEvent(ProgressEvent.Healthy, $"{process}.{index}", release.Version, cell.Name, clock.Elapsed.TotalSeconds));
        if (process == ProcessType.Web && instance.Address is not null)
        {
            // Routed with whatever else became healthy meanwhile: one write and one acknowledgement wait per batch.
            if (await _routeBatches.RouteAsync(new RouteEntry(instance.InstanceId, release.App, process, release.Version, instance.Address, instance.Cell), cancellationToken))
            {
                await output($"       {process}.{index} is routed");
                Report(release.App, new ProgressEvent(ProgressEvent.Routed, $"{process}.{index}", release.Version, cell.Name, clock.Elapsed.TotalSeconds));
            }
            else
                await output($" !     Not every router confirmed the route for {process}.{index} within {RouteConfirmation.TotalSeconds:0} s; one may be down.");
        }
        return healthy;
    }

    private async Task<Paas.Core.Cells.HealthResult> SettleAsync(Paas.Core.Cells.ICell cell, InstanceState instance, CancellationToken cancellationToken)
    {
        await Task.Delay(NonWebSettle, time, cancellationToken);
        var now = (await cell.ListAsync(cancellationToken)).FirstOrDefault(i => i.InstanceId == instance.InstanceId);
        return now is { Running: true }
            ? Paas.Core.Cells.HealthResult.Ok
            : Paas.Core.Cells.HealthResult.Failed($"the process exited with code {now?.ExitCode?.ToString() ?? "unknown"} right after starting");
    }

    /// <summary>
    /// Takes the instance out of the routing table first and waits for every router to drop it, then lets
    /// in-flight requests finish for the drain period before stopping it (SIGTERM, SIGKILL after the grace).
    /// </summary>
    public async Task RetireAsync(InstanceState instance, bool drain, CancellationToken cancellationToken)
    {
        var version = await routes.RemoveRouteAsync(instance.InstanceId);
        if (drain && instance.Running && instance.Process == ProcessType.Web)
        {
            await routes.WaitAppliedAsync(version, RouteConfirmation, time, cancellationToken);
            await Task.Delay(settings.DrainTime, time, cancellationToken);
        }
        try
        {
            var cell = await cells.FindAsync(instance.Cell);
            if (cell is not null)
                await cell.StopAsync(instance.InstanceId, StopGrace, cancellationToken);
            Report(instance.App, new ProgressEvent(ProgressEvent.Stopped, $"{instance.Process}.{instance.Index}", instance.Release, instance.Cell));
        }
        catch (Exception e) when (e is CellUnavailableException or DeployException or HttpRequestException)
        {
            logger.LogWarning("Could not stop instance {Instance}: {Reason}", instance.InstanceId, e.Message);
        }
    }

    /// <summary>Replaces instances one at a time: the new one healthy and routed before the old one drains.</summary>
    public async Task<int> RollingRestartAsync(ReleaseRecord release, IReadOnlyList<InstanceState> targets, CancellationToken cancellationToken)
    {
        var restarted = 0;
        foreach (var instance in targets.OrderBy(i => i.Process).ThenBy(i => i.Index))
        {
            await StartAsync(release, instance.Process, instance.Index, [instance], [], _ => Task.CompletedTask, cancellationToken);
            await RetireAsync(instance, drain: true, cancellationToken);
            restarted++;
        }
        return restarted;
    }

    /// <summary>What a client following this operation sees (<see cref="OperationProgress"/>): the instance states as they happen.</summary>
    private static void Report(string app, ProgressEvent progress) => OperationProgress.Report(app, progress);

    public async Task<IReadOnlyList<InstanceState>> ListAsync(string app, CancellationToken cancellationToken) =>
        await cells.ListAsync(app, cancellationToken);
}
