using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.Cell.Docker;

namespace Paas.Cell.Agent;

/// <summary>
/// Keeps checking running instances after they were first found healthy (not while the controller is
/// still waiting for that: see <see cref="DockerCell.IsStarting"/>). One that fails its check
/// several times in a row is killed, so the engine reports it as exited and the controller replaces it
/// like any crash (with backoff); the router stops sending it traffic as soon as that event lands.
/// </summary>
public sealed class LivenessMonitor(DockerCell cell, IDockerClient docker, TimeProvider time, ILogger<LivenessMonitor> logger) : BackgroundService
{
    private const int FailuresBeforeKill = 3;
    private readonly Dictionary<string, (int Failures, DateTimeOffset NextCheck)> _state = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await CheckDueAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Liveness pass failed: {Reason}", e.Message);
            }
        }
    }

    private async Task CheckDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var running = (await cell.ListAsync(cancellationToken)).Where(i => i.Running && i.HealthCheck is not null).ToList();
        foreach (var gone in _state.Keys.Except(running.Select(i => i.InstanceId)).ToList())
            _state.Remove(gone);
        foreach (var instance in running)
        {
            var check = instance.HealthCheck!;
            // Still in its start-up grace, awaited by the controller, which reports "did not listen on $PORT
            // within N s" if it never answers. Checked from the start, a slow starter was killed after three
            // intervals (16 s with the defaults) whatever PAAS_HEALTH_TIMEOUT_SECONDS said, and its push was
            // refused as "exited with code 137" (found by make chaos).
            if (cell.IsStarting(instance.InstanceId))
            {
                _state.Remove(instance.InstanceId);
                continue;
            }
            if (!_state.TryGetValue(instance.InstanceId, out var state))
            {
                // The controller waited for the first healthy check; start watching one interval later.
                _state[instance.InstanceId] = (0, now + TimeSpan.FromSeconds(check.IntervalSeconds));
                continue;
            }
            if (now < state.NextCheck)
                continue;
            var healthy = await cell.CheckOnceAsync(instance.ContainerId, check, cancellationToken);
            var failures = healthy ? 0 : state.Failures + 1;
            _state[instance.InstanceId] = (failures, now + TimeSpan.FromSeconds(check.IntervalSeconds));
            if (failures < FailuresBeforeKill)
                continue;
            logger.LogWarning("Instance {Instance} failed its health check {Failures} times in a row; killing it so it is replaced", instance.InstanceId, failures);
            try
            {
                await docker.Containers.KillContainerAsync(instance.ContainerId, new ContainerKillParameters(), cancellationToken);
            }
            catch (DockerContainerNotFoundException)
            {
            }
            _state.Remove(instance.InstanceId);
        }
    }
}
