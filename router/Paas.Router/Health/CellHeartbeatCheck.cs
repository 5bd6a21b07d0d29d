using System.Diagnostics;
using Paas.Core.Routing;
using Paas.Router.Table;
using StackExchange.Redis;

namespace Paas.Router.Health;

/// <summary>
/// Liveness of the cells the table names, timed by Redis: a cell's heartbeat key
/// (<see cref="RouteKeys.CellAlive"/>, SET with a TTL by the cell's owner) exists while it is alive. Every
/// <see cref="RouterSettings.HeartbeatCheckInterval"/> one MGET reads the keys of all cells in the table; a cell
/// whose key is gone is silent, and dead only when none of its endpoints accepts a connection
/// (<see cref="SilentCells"/>).
/// </summary>
/// <remarks>
/// While Redis is unreachable nothing is checked, so nothing is pruned: an unreachable Redis proves nothing about
/// the cells. After a reconnect, missing keys are forgiven for <see cref="RouterSettings.HeartbeatGrace"/>, because a
/// restarted Redis may have lost them and the owners set them again within a refresh interval.
/// </remarks>
public sealed class CellHeartbeatCheck(RouterSettings settings, RouteTableStore store, SilentCells silentCells, TimeProvider time, ILogger<CellHeartbeatCheck> logger)
{
    private readonly RouteKeys _keys = new(settings.RedisPrefix);
    private long _graceUntil;

    /// <summary>Forgive missing heartbeat keys for the grace period, from now (Redis came back, perhaps empty).</summary>
    public void Forgive() =>
        Interlocked.Exchange(ref _graceUntil, Stopwatch.GetTimestamp() + (long)(settings.HeartbeatGrace.TotalSeconds * Stopwatch.Frequency));

    /// <summary>
    /// Checks on the interval until stopped, handing each check's dead cells to <paramref name="deadCells"/> and
    /// calling <paramref name="read"/> after each successful read of Redis.
    /// </summary>
    public async Task RunAsync(IConnectionMultiplexer redis, Action<HashSet<string>> deadCells, Action read, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(settings.HeartbeatCheckInterval, time);
        while (await timer.WaitForNextTickAsync(stop))
        {
            var cells = store.Current.Cells.ToArray();
            if (cells.Length == 0 || !redis.IsConnected)
            {
                continue;
            }

            RedisValue[] values;
            try
            {
                values = await redis.GetDatabase().StringGetAsync(cells.Select(c => (RedisKey)_keys.CellAlive(c)).ToArray()).WaitAsync(stop);
            }
            catch (Exception ex) when ((ex is RedisException or TimeoutException) && !stop.IsCancellationRequested)
            {
                logger.LogDebug("Heartbeat check failed: {Error}", ex.Message);
                continue;
            }

            read();
            deadCells(await silentCells.DeadAmongAsync(Silent(cells, values), store.Current, stop));
        }
    }

    private List<string> Silent(string[] cells, RedisValue[] values)
    {
        var forgiving = Stopwatch.GetTimestamp() < Interlocked.Read(ref _graceUntil);
        var silent = new List<string>();
        for (var i = 0; i < cells.Length; i++)
        {
            // During the grace after a reconnect only revivals count; a cell already dead stays dead.
            if (values[i].IsNull && (!forgiving || store.Current.DeadCells.Contains(cells[i])))
            {
                silent.Add(cells[i]);
            }
        }

        return silent;
    }
}
