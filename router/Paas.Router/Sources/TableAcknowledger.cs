using Paas.Core.Routing;
using StackExchange.Redis;

namespace Paas.Router.Sources;

/// <summary>
/// Tells writers which table this router serves (<see cref="RouterAcknowledgement"/>): the route version
/// its published table reflects with nothing missed, written at once after each change and refreshed
/// every second, so the key's lifetime is also this router's liveness. Writes never block the route
/// source: a newer version simply replaces one not yet written. A router that stops on purpose removes
/// its key and its roster entry on the way out, so deploys stop waiting for it at once; one that dies
/// stops counting when its key expires (<see cref="RouterAcknowledgement.Ttl"/>).
/// </summary>
public sealed class TableAcknowledger(RouterSettings settings, ILogger<TableAcknowledger> logger)
{
    private readonly RouteKeys _keys = new(settings.RedisPrefix);
    private readonly SemaphoreSlim _changed = new(0, 1);
    private long _version = -1;

    public string RouterId => settings.RouterId;

    /// <summary>The table now served reflects every route write up to <paramref name="version"/>.</summary>
    public void Served(long version)
    {
        Interlocked.Exchange(ref _version, version);
        if (_changed.CurrentCount == 0)
        {
            try
            {
                _changed.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    public async Task RunAsync(ConnectionMultiplexer redis, CancellationToken stop)
    {
        try
        {
            await AcknowledgeAsync(redis, stop);
        }
        finally
        {
            await LeaveAsync(redis);
        }
    }

    private async Task LeaveAsync(ConnectionMultiplexer redis)
    {
        if (!redis.IsConnected)
            return;
        try
        {
            var db = redis.GetDatabase();
            // Bounded: shutdown must not wait on a Redis that went away meanwhile; the key then expires by itself.
            await Task.WhenAll(db.KeyDeleteAsync(_keys.RouterApplied(RouterId)), db.HashDeleteAsync(_keys.Routers, RouterId))
                .WaitAsync(TimeSpan.FromSeconds(1));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogDebug("Leaving the routers' roster failed: {Error}", ex.Message);
        }
    }

    private async Task AcknowledgeAsync(ConnectionMultiplexer redis, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await _changed.WaitAsync(RouterAcknowledgement.RefreshInterval, stop);
            var version = Interlocked.Read(ref _version);
            if (version < 0 || !redis.IsConnected)
                continue;
            try
            {
                var db = redis.GetDatabase();
                var write = db.StringSetAsync(_keys.RouterApplied(RouterId), version, RouterAcknowledgement.Ttl);
                var enroll = db.HashSetAsync(_keys.Routers, RouterId, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
                await Task.WhenAll(write, enroll).WaitAsync(stop);
            }
            catch (Exception ex) when ((ex is RedisException or TimeoutException) && !stop.IsCancellationRequested)
            {
                logger.LogDebug("Acknowledging route version {Version} failed: {Error}", version, ex.Message);
            }
        }
    }
}
