using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.Cell.Docker;
using Paas.Core.Metrics;
using StackExchange.Redis;

namespace Paas.Cell.Agent;

/// <summary>
/// Samples CPU and memory of each running instance from the engine's stats API every interval and hands them
/// to the controller's metrics history as one Redis hash (<see cref="MetricsKeys.CellUsage"/>) with an expiry,
/// so instances of a cell that went away stop counting. One-shot stats carry no previous CPU reading, so the
/// sampler keeps each container's last one and takes the difference itself.
/// </summary>
public sealed class UsageSampler(
    DockerCell cell,
    IDockerClient docker,
    CellAgentSettings settings,
    IConnectionMultiplexer redis,
    TimeProvider time,
    ILogger<UsageSampler> logger) : BackgroundService
{
    private readonly MetricsKeys _keys = new(settings.RedisPrefix);
    private readonly Dictionary<string, (ulong Container, ulong System)> _lastCpu = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.MetricsInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SampleAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Sampling instance usage failed: {Reason}", e.Message);
            }
        }
    }

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        var running = (await cell.ListAsync(cancellationToken)).Where(i => i.Running).ToList();
        var entries = new List<HashEntry>(running.Count);
        var now = time.GetUtcNow();
        foreach (var instance in running)
        {
            ContainerStatsResponse? stats = null;
            try
            {
                await docker.Containers.GetContainerStatsAsync(instance.ContainerId,
                    new ContainerStatsParameters { Stream = false, OneShot = true },
                    new Progress(s => stats = s), cancellationToken);
            }
            catch (DockerContainerNotFoundException)
            {
                continue; // Stopped between the list and the stats.
            }
            if (stats is null)
                continue;
            var usage = new InstanceUsage(instance.App, instance.Process, instance.InstanceId, CpuPercent(instance.ContainerId, stats), Memory(stats), now);
            entries.Add(new HashEntry(instance.InstanceId, JsonSerializer.Serialize(usage)));
        }
        foreach (var gone in _lastCpu.Keys.Except(running.Select(i => i.ContainerId)).ToList())
            _lastCpu.Remove(gone);

        var key = _keys.CellUsage(settings.Name);
        var db = redis.GetDatabase();
        // Replaced whole, so stopped instances disappear at once.
        var batch = db.CreateTransaction();
        _ = batch.KeyDeleteAsync(key);
        if (entries.Count > 0)
        {
            _ = batch.HashSetAsync(key, [.. entries]);
            _ = batch.KeyExpireAsync(key, settings.MetricsInterval * 3);
        }
        await batch.ExecuteAsync();
    }

    /// <summary>Percent of one core used since the last sample (200 = two cores busy), as `docker stats` shows it.</summary>
    private double CpuPercent(string container, ContainerStatsResponse stats)
    {
        var total = stats.CPUStats?.CPUUsage?.TotalUsage ?? 0;
        var system = stats.CPUStats?.SystemUsage ?? 0;
        var cpus = stats.CPUStats?.OnlineCPUs is > 0 and var online ? online : 1;
        var had = _lastCpu.TryGetValue(container, out var last);
        _lastCpu[container] = (total, system);
        if (!had || system <= last.System || total < last.Container)
            return 0;
        return (double)(total - last.Container) / (system - last.System) * cpus * 100;
    }

    /// <summary>Memory in use without the reclaimable page cache, as `docker stats` counts it.</summary>
    private static long Memory(ContainerStatsResponse stats)
    {
        var usage = (long)(stats.MemoryStats?.Usage ?? 0);
        var cache = stats.MemoryStats?.Stats is { } detail && detail.TryGetValue("inactive_file", out var inactive) ? (long)inactive : 0;
        return Math.Max(0, usage - cache);
    }

    private sealed class Progress(Action<ContainerStatsResponse> report) : IProgress<ContainerStatsResponse>
    {
        public void Report(ContainerStatsResponse value) => report(value);
    }
}
