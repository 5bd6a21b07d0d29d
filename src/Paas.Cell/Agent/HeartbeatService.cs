using System.Text.Json;
using Paas.Cell.Docker;
using Paas.Core.Cells;
using Paas.Core.Routing;
using StackExchange.Redis;

namespace Paas.Cell.Agent;

/// <summary>
/// Registers the cell in Redis and re-publishes its registration, with every instance it runs, at each
/// heartbeat (and at once after a change), so the controller's view of actual state is at most one
/// interval old and can always be rebuilt from the cells.
/// </summary>
public sealed class HeartbeatService(
    DockerCell cell,
    CellAgentSettings settings,
    IConnectionMultiplexer redis,
    CellKeys keys,
    RouteKeys routeKeys,
    TimeProvider time,
    IServiceProvider services,
    ILogger<HeartbeatService> logger) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>Publishes a fresh registration now rather than at the next tick.</summary>
    public void BeatNow()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var instances = await cell.ListAsync(stoppingToken);
                var registration = new CellRegistration(settings.Name, settings.Zone, settings.AdvertisedUrl, settings.MemoryBytes,
                    settings.MaxInstances, time.GetUtcNow(), instances)
                {
                    Address = settings.Address,
                    CpuShares = settings.CpuShares,
                    Images = await cell.CountImagesAsync(stoppingToken),
                    PullFailures = cell.PullFailures,
                    // Resolved late: the pre-pull reports through the heartbeat (BeatNow), so it depends on this service.
                    Stack = services.GetService<StackPrepull>()?.State,
                };
                var db = redis.GetDatabase();
                await db.HashSetAsync(keys.Cells, settings.Name, JsonSerializer.Serialize(registration));
                // The cell is live while this key exists (see CellHeartbeat); the registration is only what it reports.
                await db.StringSetAsync(routeKeys.CellAlive(settings.Name), "1", settings.LostAfter);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Redis or the engine is briefly away; the next beat tries again, and the controller
                // only declares the cell lost after several missed beats.
                logger.LogWarning("Heartbeat failed: {Reason}", e.Message);
            }
            await _wake.WaitAsync(settings.HeartbeatInterval, stoppingToken);
        }
    }
}
