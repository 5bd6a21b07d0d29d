using System.Security.Cryptography;
using Paas.Controller.Routing;
using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Instances;
using Paas.Core.Releases;
using Paas.Core.Routing;

namespace Paas.Controller.Instances;

/// <summary>Starts instances of a release and retires old ones, keeping routes in step with health.</summary>
public sealed class InstanceManager(CellPool cells, RoutePublisher routes, PaasSettings settings, TimeProvider time, ILogger<InstanceManager> logger)
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RouteConfirmation = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Starts one instance and returns it only once it is healthy and, for web, routed. On failure the
    /// instance is removed and a <see cref="DeployException"/> says why.
    /// </summary>
    public async Task<InstanceState> StartAsync(ReleaseRecord release, string process, int index, Func<string, Task> output, CancellationToken cancellationToken)
    {
        var cell = await cells.PlaceAsync(release.App, settings.AppMemoryBytes, cancellationToken);
        var spec = new InstanceSpec(
            InstanceId: $"{release.App}-{process}-{index}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}",
            App: release.App,
            Release: release.Version,
            Process: process,
            Index: index,
            Image: release.Image,
            Command: release.ProcessTypes[process],
            Environment: new Dictionary<string, string>(),
            MemoryBytes: settings.AppMemoryBytes);
        var instance = await cell.StartAsync(spec, cancellationToken);
        await output($"       {process}.{index} started on cell {cell.Name}, waiting for it to listen on $PORT");
        var health = await cell.WaitHealthyAsync(instance, settings.HealthTimeout, cancellationToken);
        if (!health.Healthy)
        {
            await cell.StopAsync(instance.InstanceId, TimeSpan.FromSeconds(1), CancellationToken.None);
            throw new DeployException($"{process}.{index} of v{release.Version} never became healthy: {health.Reason}.");
        }
        await output($"       {process}.{index} is healthy");
        if (process == ProcessType.Web && instance.Address is not null)
        {
            await routes.AddRouteAsync(new RouteEntry(instance.InstanceId, release.App, process, release.Version, instance.Address));
            if (await routes.WaitRoutedAsync(settings.AppHost(release.App), instance.InstanceId, RouteConfirmation, time, cancellationToken))
                await output($"       {process}.{index} is routed");
            else
                await output($" !     The router did not confirm the route for {process}.{index} within {RouteConfirmation.TotalSeconds:0} s; it may be down.");
        }
        return instance;
    }

    /// <summary>Takes the instance out of the routing table first, then stops it, so no request is sent to a stopping process.</summary>
    public async Task RetireAsync(InstanceState instance, CancellationToken cancellationToken)
    {
        await routes.RemoveRouteAsync(instance.InstanceId);
        try
        {
            await cells.Get(instance.Cell).StopAsync(instance.InstanceId, StopGrace, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Could not stop instance {Instance}", instance.InstanceId);
        }
    }

    public async Task<IReadOnlyList<InstanceState>> ListAsync(string app, CancellationToken cancellationToken) =>
        (await cells.ListAsync(cancellationToken)).Where(i => i.App == app).ToList();
}
