using System.Text.Json;
using Paas.Core.Cells;
using Paas.Core.Metrics;
using Paas.Core.Routing;
using StackExchange.Redis;

namespace Paas.Controller.Metrics;

/// <summary>
/// Every interval, reads what routers and cells published in Redis (<see cref="MetricsKeys"/>) into the
/// <see cref="MetricsHistory"/>: routers' request counts as differences since the last read, cells' latest
/// CPU and memory per instance summed by app and process type. Runs on every controller (it only reads), so a
/// standby answers `paas metrics` too.
/// </summary>
public sealed class MetricsCollector(
    IConnectionMultiplexer redis,
    MetricsKeys keys,
    RouteKeys routeKeys,
    CellKeys cellKeys,
    MetricsHistory history,
    Paas.Core.Configuration.PaasSettings settings,
    TimeProvider time,
    ILogger<MetricsCollector> logger) : BackgroundService
{
    private readonly TrafficDeltas _deltas = new();

    /// <summary>Collections made since start, for the controller's /metrics.</summary>
    public long Collections { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.MetricsInterval, time);
        do
        {
            try
            {
                await CollectAsync();
                Collections++;
            }
            catch (Exception e) when (e is RedisException or JsonException)
            {
                // The routers' counts are cumulative: the next read picks up what this one missed.
                logger.LogWarning("Collecting metrics failed: {Reason}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task CollectAsync()
    {
        var db = redis.GetDatabase();
        foreach (var router in await db.HashKeysAsync(routeKeys.Routers))
        {
            var id = router.ToString();
            foreach (var entry in await db.HashGetAllAsync(keys.RouterTraffic(id)))
            {
                if (JsonSerializer.Deserialize<AppTraffic>(entry.Value.ToString()) is not { } traffic)
                    continue;
                if (_deltas.Next(id, entry.Name.ToString(), traffic) is { } delta && delta.ByStatus.Count > 0)
                    history.AddTraffic(entry.Name.ToString(), delta.ByStatus, delta.Buckets);
            }
            _deltas.Seen(id);
        }

        var usage = new Dictionary<(string App, string Process), ProcessUsage>();
        foreach (var cell in await db.HashKeysAsync(cellKeys.Cells))
        {
            foreach (var entry in await db.HashGetAllAsync(keys.CellUsage(cell.ToString())))
            {
                if (JsonSerializer.Deserialize<InstanceUsage>(entry.Value.ToString()) is not { } sample)
                    continue;
                var key = (sample.App, sample.Process);
                var sum = usage.GetValueOrDefault(key) ?? new ProcessUsage(0, 0, 0);
                usage[key] = new ProcessUsage(sum.Instances + 1, sum.CpuPercent + sample.CpuPercent, sum.MemoryBytes + sample.MemoryBytes);
            }
        }
        foreach (var ((app, process), sum) in usage)
            history.SetUsage(app, process, sum);
    }
}
