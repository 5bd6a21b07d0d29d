using System.Text.Json;
using Paas.Core.Metrics;
using Paas.Router.Sources;
using StackExchange.Redis;

namespace Paas.Router.Observability;

/// <summary>
/// Hands this router's per-app counts (requests by status, latency buckets) to the controller's metrics
/// history every interval, as one Redis hash with an expiry of three intervals: a router that stops
/// stops counting in the history instead of repeating its last numbers. Off the request path entirely.
/// </summary>
public sealed class TrafficPublisher(RouterSettings settings, RouterMetrics metrics, TimeProvider time, ILogger<TrafficPublisher> logger)
    : BackgroundService, IRedisConnectionUser
{
    private readonly MetricsKeys _keys = new(settings.RedisPrefix);
    private volatile IConnectionMultiplexer? _redis;

    public void Attach(IConnectionMultiplexer? redis) => _redis = redis;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.MetricsInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (_redis is not { IsConnected: true } redis)
            {
                continue;
            }

            try
            {
                var traffic = metrics.TrafficByApp();
                if (traffic.Count == 0)
                {
                    continue;
                }

                var key = _keys.RouterTraffic(settings.RouterId);
                var entries = traffic.Select(t => new HashEntry(t.Key, JsonSerializer.Serialize(t.Value))).ToArray();
                var db = redis.GetDatabase();
                await db.HashSetAsync(key, entries);
                await db.KeyExpireAsync(key, settings.MetricsInterval * 3);
            }
            catch (RedisException e)
            {
                // The counts are cumulative: the next publication carries what this one would have.
                logger.LogDebug("Publishing traffic counts failed: {Reason}", e.Message);
            }
        }
    }
}
