using Paas.Controller.Routing;
using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Instances;
using Paas.Core.Releases;
using Paas.Core.Routing;

namespace Paas.Controller.Instances;

/// <summary>
/// Makes what runs equal what is desired, from state read back from the cells: adopts running
/// instances after a restart (without restarting them), replaces dead ones, removes orphans, and
/// rebuilds the routing table in Redis. Runs at start and then periodically.
/// </summary>
public sealed class Converger(
    PlatformDatabase database,
    CellPool cells,
    InstanceManager instances,
    RoutePublisher routes,
    AppLocks locks,
    PaasSettings settings,
    TimeProvider time,
    ILogger<Converger> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ConvergeAllAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The next pass heals whatever this one could not; a Redis or engine hiccup must not stop the loop.
                logger.LogWarning(e, "Convergence pass failed");
            }
            await Task.Delay(Interval, time, stoppingToken);
        }
    }

    public async Task ConvergeAllAsync(CancellationToken cancellationToken)
    {
        var apps = database.ListApps();
        var known = apps.Select(a => a.Name).ToHashSet();
        foreach (var orphan in (await cells.ListAsync(cancellationToken)).Where(i => !known.Contains(i.App)))
            await instances.RetireAsync(orphan, cancellationToken);
        foreach (var app in apps)
        {
            await routes.SetHostAsync(settings.AppHost(app.Name), app.Name);
            using var _ = await locks.AcquireAsync(app.Name, cancellationToken);
            await ConvergeAppAsync(app.Name, cancellationToken);
        }
    }

    private async Task ConvergeAppAsync(string app, CancellationToken cancellationToken)
    {
        var current = database.CurrentRelease(app);
        var running = await instances.ListAsync(app, cancellationToken);
        var keep = new List<InstanceState>();
        foreach (var instance in running)
        {
            if (current is null || instance.Release != current.Version || !instance.Running || !current.ProcessTypes.ContainsKey(instance.Process))
            {
                logger.LogInformation("Removing {Instance} of {App}: {Why}", instance.InstanceId, app, instance.Running ? "not desired" : "not running");
                await instances.RetireAsync(instance, cancellationToken);
            }
            else
            {
                keep.Add(instance);
            }
        }

        var routed = await routes.RoutesOfAppAsync(app);
        foreach (var stale in routed.Where(r => keep.All(i => i.InstanceId != r.Instance)))
            await routes.RemoveRouteAsync(stale.Instance);
        foreach (var instance in keep.Where(i => i.Process == ProcessType.Web && i.Address is not null && routed.All(r => r.Instance != i.InstanceId)))
        {
            // Adopted after a restart (or Redis lost its data): route it again only if it still answers.
            var health = await cells.Get(instance.Cell).WaitHealthyAsync(instance, TimeSpan.FromSeconds(2), cancellationToken);
            if (health.Healthy)
                await routes.AddRouteAsync(new RouteEntry(instance.InstanceId, app, instance.Process, instance.Release, instance.Address!));
        }

        if (current is not null && current.ProcessTypes.ContainsKey(ProcessType.Web) && !keep.Any(i => i.Process == ProcessType.Web))
        {
            logger.LogInformation("Starting web.1 of {App} v{Version}: none is running", app, current.Version);
            try
            {
                await instances.StartAsync(current, ProcessType.Web, 1, _ => Task.CompletedTask, cancellationToken);
            }
            catch (DeployException e)
            {
                logger.LogWarning("Could not start web.1 of {App}: {Reason}", app, e.Message);
            }
        }
    }
}
