using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Paas.Core.Routing;
using Paas.Router.Health;
using Paas.Router.Table;
using StackExchange.Redis;
using RouteKeys = Paas.Core.Routing.RouteKeys;

namespace Paas.Router.Sources;

/// <summary>
/// Keeps the route table in step with Redis: subscribe first, then load everything, then apply change
/// messages one by one, healing anything the pub/sub stream lost by reloading.
/// Redis being down never empties the table; the last good snapshot keeps serving.
///
/// Knowing when to reload: every write bumps <see cref="RouteKeys.Version"/> and its message carries the
/// new value (Paas.Core's RouteWriter); <see cref="RouteChangeSequence"/> tells a lost message from a stale one.
/// The periodic check reads only the counter and reloads when the table is behind it, so a table of
/// 100,000 routes is not fetched and compared every interval for nothing (that took a second of CPU and
/// showed as 100+ ms latency spikes). Every <see cref="FullReloadEvery"/>th period reloads anyway, for
/// writes made outside the contract (by hand, by an older writer).
///
/// This class owns the connection and the order of work; the rest is done by parts with one concern each:
/// <see cref="StoredRoutes"/> (a full load into a table), <see cref="CellHeartbeatCheck"/> (which cells are
/// dead), <see cref="TableAcknowledger"/> (telling the controller which version is served),
/// <see cref="StartupWarmUp"/>, and the <see cref="IRedisConnectionUser"/>s sharing the connection (app-log
/// feed, endpoint-down publisher).
/// </summary>
public sealed class RedisRouteSource(
    RouterSettings settings,
    RouteTableStore store,
    TimeProvider time,
    CellHeartbeatCheck heartbeats,
    TableAcknowledger acknowledger,
    IEnumerable<IRedisConnectionUser> connectionUsers,
    ILogger<RedisRouteSource> logger) : BackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    /// <summary>Every this many periods the check reloads everything even when the counter says nothing changed.</summary>
    public const int FullReloadEvery = 10;

    private readonly RouteKeys _keys = new(settings.RedisPrefix);
    private readonly IRedisConnectionUser[] _connectionUsers = connectionUsers.ToArray();

    // Messages and resync requests share one queue with one reader, so a full reload and an incremental
    // change can never interleave: a reload cannot overwrite a change applied while it was in flight.
    private readonly Channel<Work> _work = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });

    // Only the single reader of _work touches these.
    private readonly RouteChangeSequence _sequence = new();
    private int _resyncFailures;
    private bool _loadedOnce;
    private int _periodicChecks;

    private bool _retryScheduled;
    private int _connectionDown;
    private long _lastSync;

    /// <summary>Time since the table or the heartbeats were last read from Redis; null before the first read.</summary>
    public TimeSpan? SinceLastSync => Interlocked.Read(ref _lastSync) is var last && last != 0 ? Stopwatch.GetElapsedTime(last) : null;

    private void MarkSynced() => Interlocked.Exchange(ref _lastSync, Stopwatch.GetTimestamp());

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // Without this the host would stop; a router with a frozen table is more useful than no router.
            logger.LogCritical(ex, "Route source stopped unexpectedly; serving the last route table without updates");
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        // The router must come up, and keep serving, while Redis is away; the multiplexer reconnects by
        // itself, and through Sentinel follows a failover. With Redis down this takes the whole connect
        // timeout (through Sentinel: until a sentinel names a primary); shutdown should not wait for it.
        await using var redis = await Paas.Core.Configuration.RedisConnection.ConnectAsync(settings.Redis, "paas-router",
            message => logger.LogWarning("Redis: {Message}", message), stop);
        redis.ConnectionFailed += OnConnectionFailed;
        redis.ConnectionRestored += OnConnectionRestored;
        foreach (var user in _connectionUsers)
        {
            user.Attach(redis);
        }

        var queue = await SubscribeAsync(redis, stop);
        _work.Writer.TryWrite(Work.Resync("startup"));

        var timer = ResyncPeriodicallyAsync(stop);
        var liveness = heartbeats.RunAsync(redis, dead => _work.Writer.TryWrite(Work.Cells(dead)), MarkSynced, stop);
        var acknowledgements = acknowledger.RunAsync(redis, stop);
        try
        {
            await ProcessAsync(redis.GetDatabase(), stop);
        }
        finally
        {
            foreach (var user in _connectionUsers)
            {
                user.Attach(null);
            }

            redis.ConnectionFailed -= OnConnectionFailed;
            redis.ConnectionRestored -= OnConnectionRestored;
            await IgnoreFailure(queue.UnsubscribeAsync(CommandFlags.FireAndForget));
            await IgnoreFailure(timer);
            await IgnoreFailure(liveness);
            await IgnoreFailure(acknowledgements);
        }
    }

    private async Task<ChannelMessageQueue> SubscribeAsync(ConnectionMultiplexer redis, CancellationToken stop)
    {
        var subscriber = redis.GetSubscriber();
        var failures = 0;
        while (true)
        {
            stop.ThrowIfCancellationRequested();
            if (!redis.IsConnected)
            {
                // A subscribe issued now would only wait out the backlog timeout; polling the connection
                // state lets us subscribe within a moment of Redis coming back.
                await Task.Delay(TimeSpan.FromMilliseconds(250), time, stop);
                continue;
            }

            try
            {
                // WaitAsync: while Redis is away the call sits in the multiplexer's backlog for seconds,
                // and shutdown should not have to sit there with it.
                var queue = await subscriber.SubscribeAsync(RedisChannel.Literal(_keys.Changes)).WaitAsync(stop);
                // The queue's handler runs messages strictly in arrival order, which the incremental
                // apply relies on (a set followed by a del must not be applied the other way round).
                queue.OnMessage(message => _work.Writer.TryWrite(Work.Message(message.Message.ToString())));
                logger.LogInformation("Subscribed to {Channel}", _keys.Changes);
                return queue;
            }
            catch (Exception ex) when ((ex is RedisException or TimeoutException) && !stop.IsCancellationRequested)
            {
                failures++;
                LogRedisTrouble(failures, ex, "Subscribing to route changes failed; retrying");
                // A half-registered subscription would later deliver every message twice, possibly out of order.
                await IgnoreFailure(subscriber.UnsubscribeAsync(RedisChannel.Literal(_keys.Changes)));
                await Task.Delay(Backoff(failures), time, stop);
            }
        }
    }

    private async Task ResyncPeriodicallyAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(settings.ResyncInterval, time);
        while (await timer.WaitForNextTickAsync(stop))
        {
            _work.Writer.TryWrite(Work.Resync(Work.PeriodicReason));
        }
    }

    private async Task ProcessAsync(IDatabase db, CancellationToken stop)
    {
        while (await _work.Reader.WaitToReadAsync(stop))
        {
            // Everything already queued is applied to one builder and published as one snapshot, so a burst
            // of changes costs one table copy rather than one per message.
            var builder = new RouteTableBuilder(store.Current);
            while (_work.Reader.TryPeek(out var work))
            {
                if (work.ResyncReason is { } reason)
                {
                    PublishBuilt(builder);
                    _work.Reader.TryRead(out _);
                    if (reason == Work.RetryReason)
                    {
                        _retryScheduled = false;
                    }

                    var cheap = reason == Work.CheckReason || (reason == Work.PeriodicReason && ++_periodicChecks % FullReloadEvery != 0);
                    if (cheap && _loadedOnce && await IsTableCurrentAsync(db, stop))
                    {
                        MarkSynced();
                    }
                    else
                    {
                        await ResyncAsync(db, reason, stop);
                    }

                    builder = new RouteTableBuilder(store.Current);
                    continue;
                }

                _work.Reader.TryRead(out _);
                if (work.DeadCells is { } dead)
                {
                    builder.SetDeadCells(dead);
                }
                else
                {
                    Apply(builder, work.Payload!);
                }
            }

            PublishBuilt(builder);
            if (!_sequence.HasGap && _loadedOnce)
            {
                acknowledger.Served(_sequence.CompleteVersion);
            }
        }
    }

    private void PublishBuilt(RouteTableBuilder builder)
    {
        if (!builder.HasChanges)
        {
            return;
        }

        var next = builder.Build(store.Current.Version + 1);
        store.Publish(next);
        logger.LogDebug("Applied route changes; table version {Version}", next.Version);
    }

    private void Apply(RouteTableBuilder builder, string payload)
    {
        if (!TableChange.TryParse(payload, out var change))
        {
            logger.LogWarning("Ignoring unreadable route change message ({Length} bytes); resyncing", payload.Length);
            _work.Writer.TryWrite(Work.Resync("unreadable message"));
            return;
        }

        if (change.Kind == RouteChangeKind.EndpointDown)
        {
            // Another router (or this one) saw the instance refuse a connection: skip it here too.
            if (store.Current.Instances.TryGetValue(change.Key, out var endpoint)
                && long.TryParse(change.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms is > 0 and <= 600_000)
            {
                endpoint.State.CoolDown(PassiveHealth.Now + ms);
            }

            return;
        }

        if (change.Version is { } version)
        {
            switch (_sequence.Observe(version, _loadedOnce))
            {
                case RouteChangeVerdict.CheckCounter:
                    _work.Writer.TryWrite(Work.Resync(Work.CheckReason));
                    return;
                case RouteChangeVerdict.ApplyAndReload:
                    logger.LogWarning("Route change {Version} arrived after a gap in the sequence; a change was lost, reloading", version);
                    _work.Writer.TryWrite(Work.Resync("lost message"));
                    break;
            }
        }

        if (!builder.TryApply(change))
        {
            logger.LogWarning("Ignoring invalid {Kind} for {Key}; resyncing", change.Kind, change.Key);
            _work.Writer.TryWrite(Work.Resync("invalid message"));
        }
    }

    private async Task ResyncAsync(IDatabase db, string reason, CancellationToken stop)
    {
        HashEntry[] hosts, routes, appOptions;
        long counter;
        try
        {
            // One MULTI so hosts, routes and options describe the same moment.
            var transaction = db.CreateTransaction();
            var hostsTask = transaction.HashGetAllAsync(_keys.Hosts);
            var routesTask = transaction.HashGetAllAsync(_keys.Routes);
            var optionsTask = transaction.HashGetAllAsync(_keys.AppOptions);
            var versionTask = transaction.StringGetAsync(_keys.Version);
            await transaction.ExecuteAsync().WaitAsync(stop);
            hosts = await hostsTask;
            routes = await routesTask;
            appOptions = await optionsTask;
            counter = ParseVersion(await versionTask);
        }
        catch (Exception ex) when ((ex is RedisException or TimeoutException) && !stop.IsCancellationRequested)
        {
            _resyncFailures++;
            LogRedisTrouble(_resyncFailures, ex, $"Loading routes from Redis failed ({reason}); keeping the current table");
            ScheduleRetry();
            return;
        }

        // Nothing was missed (the usual case): keep the table, and with it every lookup structure and pool,
        // rather than rebuilding 100,000 entries to get the same answer. Checked first without making a
        // string per entry: at 100,000 routes those strings were 40 MB, and the collections they brought
        // paused every loop while they copied what the reload still held.
        // The first load always publishes: version 1 is how the admin API and tests tell "loaded" from "empty".
        var table = store.Current;
        if (!_loadedOnce || !StoredRoutes.Match(table, hosts, routes, appOptions))
        {
            table = StoredRoutes.Rebuild(table, hosts, routes, appOptions, skipped => logger.LogWarning("Skipping unreadable {Entry}", skipped));
            store.Publish(table);
        }

        // With 100,000 routes these arrays are large objects, which only a full collection frees. Left
        // holding the entries after they are dead, they would keep every value they name alive through the
        // young collections until then: 22 MB per reload, copied with the loops paused (measured).
        Array.Clear(hosts);
        Array.Clear(routes);
        Array.Clear(appOptions);
        MarkSynced();

        if (!_loadedOnce)
        {
            StartupWarmUp.Run(table);
        }

        var level = _loadedOnce && _resyncFailures == 0 ? LogLevel.Debug : LogLevel.Information;
        logger.Log(level, "Loaded {Hosts} hosts and {Routes} routes from Redis ({Reason}); table version {Version}",
            table.Hosts.Count, table.Instances.Count, reason, table.Version);
        _loadedOnce = true;
        _resyncFailures = 0;
        _sequence.Reloaded(counter);
    }

    private async Task<bool> IsTableCurrentAsync(IDatabase db, CancellationToken stop)
    {
        try
        {
            return ParseVersion(await db.StringGetAsync(_keys.Version).WaitAsync(stop)) == _sequence.TableVersion;
        }
        catch (Exception ex) when ((ex is RedisException or TimeoutException) && !stop.IsCancellationRequested)
        {
            // The reload that follows meets the same trouble and reports it.
            return false;
        }
    }

    private static long ParseVersion(RedisValue value) => value.TryParse(out long version) ? version : 0;

    private void ScheduleRetry()
    {
        if (_retryScheduled)
        {
            return;
        }

        _retryScheduled = true;
        var delay = Backoff(_resyncFailures);
        _ = Task.Delay(delay, time).ContinueWith(
            _ => _work.Writer.TryWrite(Work.Resync(Work.RetryReason)), TaskScheduler.Default);
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        // The multiplexer reports every failed reconnect attempt; only the first of an outage is worth a warning.
        if (Interlocked.Exchange(ref _connectionDown, 1) == 0)
        {
            logger.LogWarning("Lost connection to Redis ({FailureType}); serving the last route table", e.FailureType);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (Interlocked.Exchange(ref _connectionDown, 0) == 1)
        {
            logger.LogInformation("Reconnected to Redis");
        }

        heartbeats.Forgive();

        // Messages published while we were away are gone for good; a reload is the only way to catch up.
        _work.Writer.TryWrite(Work.Resync("reconnected"));
    }

    private void LogRedisTrouble(int failures, Exception ex, string what)
    {
        // First failure of a streak is a warning with the cause; the rest would only repeat it every few seconds.
        var level = failures == 1 ? LogLevel.Warning : LogLevel.Debug;
        logger.Log(level, "{What} (attempt {Attempt}): {Error}", what, failures, ex.Message);
    }

    private static TimeSpan Backoff(int failures) =>
        TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, 250 * Math.Pow(2, Math.Min(failures, 10))));

    private static async Task IgnoreFailure(Task task)
    {
        try
        {
            await task;
        }
        catch
        {
            // Shutdown and cleanup paths: there is nobody left to report to.
        }
    }

    private sealed record Work(string? Payload, string? ResyncReason, HashSet<string>? DeadCells = null)
    {
        public const string RetryReason = "retry";

        public const string PeriodicReason = "periodic";

        /// <summary>Reload only if the table is behind the counter.</summary>
        public const string CheckReason = "counter check";

        public static Work Message(string payload) => new(payload, null);

        public static Work Resync(string reason) => new(null, reason);

        public static Work Cells(HashSet<string> dead) => new(null, null, dead);
    }
}
