using Paas.Core.Instances;

namespace Paas.Core.Cells;

/// <summary>
/// A host that runs instances. The placement service and reconciler talk to cells only through this,
/// so a fake cell can stand in for a Docker-backed one in simulations.
/// </summary>
public interface ICell
{
    string Name { get; }

    /// <summary>
    /// Makes sure the image is on the cell's engine, pulling it from the registry by digest if not, with
    /// progress lines for the pusher; true when it had to pull. A cell that cannot get it throws
    /// <see cref="ImageUnavailableException"/> naming the reason (registry down, disk full).
    /// </summary>
    Task<bool> PrepareImageAsync(string image, Func<string, Task> progress, CancellationToken cancellationToken) => Task.FromResult(false);

    /// <summary>
    /// Removes the app's release images from the cell's engine that no container uses and that are not in
    /// <paramref name="keep"/> (release image references: a registry digest or a local tag); returns what it removed.
    /// </summary>
    Task<IReadOnlyList<string>> PruneImagesAsync(string app, IReadOnlyCollection<string> keep, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([]);

    /// <summary>Creates and starts the instance's container; returns once it is running (not yet healthy).</summary>
    Task<InstanceState> StartAsync(InstanceSpec spec, CancellationToken cancellationToken);

    /// <summary>
    /// Starts a crashed instance's exited container again, in place (same instance, same cell, its image and
    /// writable layer already there): a crash then costs the engine's start, not a create, a placement and a
    /// pull. Returns it running (its address may have changed), or null when it cannot be restarted so (it is
    /// gone, runs already, is being stopped, or was made for another memory size than <paramref name="memoryBytes"/>,
    /// the slot's size now): the caller then starts a new instance instead.
    /// </summary>
    Task<InstanceState?> RestartAsync(string instanceId, long memoryBytes, CancellationToken cancellationToken) => Task.FromResult<InstanceState?>(null);

    /// <summary>Waits until the instance passes its health check, or the timeout passes.</summary>
    Task<HealthResult> WaitHealthyAsync(InstanceState instance, HealthCheckSpec check, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Stops (SIGTERM, then SIGKILL after the grace period) and removes the instance's container.</summary>
    Task StopAsync(string instanceId, TimeSpan grace, CancellationToken cancellationToken);

    /// <summary>Every instance of this platform the cell runs or has stopped, read back from the engine.</summary>
    Task<IReadOnlyList<InstanceState>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// One app's instances on this cell (what a pass over one app needs): the engine filters by the app's label,
    /// so the cost follows that app's instances, not everything the cell runs.
    /// </summary>
    async Task<IReadOnlyList<InstanceState>> ListAsync(string app, CancellationToken cancellationToken) =>
        (await ListAsync(cancellationToken)).Where(i => i.App == app).ToList();
}
