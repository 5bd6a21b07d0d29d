using RouteKeys = Paas.Core.Routing.RouteKeys;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Paas.Core.Routing;
using System.Threading.Channels;
using Paas.Router.Health;
using Paas.Router.Observability;
using Paas.Router.Table;
using StackExchange.Redis;

namespace Paas.Router.Sources;

/// <summary>
/// Keeps the route table in step with Redis: subscribe first, then load everything, then apply change
/// messages one by one, healing anything the pub/sub stream lost by reloading.
/// Redis being down never empties the table; the last good snapshot keeps serving.
///
/// Knowing when to reload: every write bumps <see cref="RouteKeys.Version"/> and its message carries the
/// new value (Paas.Core's RouteWriter). A message whose number skips one means one was lost: reload now.
/// The periodic check reads only the counter and reloads when the table is behind it, so a table of
/// 100,000 routes is not fetched and compared every interval for nothing (that took a second of CPU and
/// showed as 100+ ms latency spikes). Every <see cref="FullReloadEvery"/>th period reloads anyway, for
/// writes made outside the contract (by hand, by an older writer).
///
/// Liveness (TTL'd registrations): a route naming a cell is served only while that cell's heartbeat key
/// (<see cref="RouteKeys.CellAlive"/>, SET with a TTL by the cell's owner) exists. Every
/// <see cref="RouterSettings.HeartbeatCheckInterval"/> one MGET checks the keys of all cells the table
/// names; a cell whose key is gone is silent, and marked dead only when none of its endpoints accepts a
/// connection (<see cref="SilentCells"/>): then its endpoints leave the pools (they stay in the table, and
/// come back if the key reappears). While Redis is unreachable nothing is checked, so nothing
/// is pruned; after a reconnect missing keys are forgiven for <see cref="RouterSettings.HeartbeatGrace"/>,
/// because a restarted Redis may have lost them and the owners re-set them within a refresh interval.
/// </summary>
public sealed class RedisRouteSource : BackgroundService, IEndpointDownPublisher
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    /// <summary>Every this many periods the check reloads everything even when the counter says nothing changed.</summary>
    public const int FullReloadEvery = 10;

    private readonly RouterSettings _settings;
    private readonly RouteTableStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisRouteSource> _logger;
    private readonly RouteKeys _keys;

    // Messages and resync requests share one queue with one reader, so a full reload and an incremental
    // change can never interleave: a reload cannot overwrite a change applied while it was in flight.
    private readonly Channel<Work> _work = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });

    private int _resyncFailures;
    private bool _retryScheduled;
    private bool _loadedOnce;
    private int _connectionDown;
    private ConnectionMultiplexer? _redis;
    private long _lastSync;
    private long _graceUntil;

    // The value of the routes:version counter the table reflects: set by each reload, advanced by each
    // versioned message. Only the single reader of _work touches these two.
    private long _tableVersion;
    private int _periodicChecks;

    public RedisRouteSource(RouterSettings settings, RouteTableStore store, TimeProvider time, AccessLog accessLog, SilentCells silentCells, TableAcknowledger acknowledger, ILogger<RedisRouteSource> logger)
    {
        _acknowledger = acknowledger;
        _silentCells = silentCells;
        _settings = settings;
        _store = store;
        _time = time;
        _accessLog = accessLog;
        _logger = logger;
        _keys = new RouteKeys(settings.RedisPrefix);
    }

    private readonly AccessLog _accessLog;
    private readonly SilentCells _silentCells;
    private readonly TableAcknowledger _acknowledger;

    // The route version the next published table will reflect completely; no longer advanced once a
    // message is found missing, until a reload has read everything again. Only the single reader touches it.
    private long _completeVersion;
    private bool _missedMessage;

    /// <summary>Time since the table or the heartbeats were last read from Redis; null before the first read.</summary>
    public TimeSpan? SinceLastSync => Interlocked.Read(ref _lastSync) is var last && last != 0 ? Stopwatch.GetElapsedTime(last) : null;

    public void PublishDown(string instance, TimeSpan cooldown)
    {
        if (_redis is not { IsConnected: true } redis)
        {
            return;
        }

        var message = RoutingJson.Write(new RouteChange(
            RouteChange.EndpointDown, instance, ((long)cooldown.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)));
        _ = redis.GetSubscriber().PublishAsync(RedisChannel.Literal(_keys.Changes), message, CommandFlags.FireAndForget);
    }

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
            _logger.LogCritical(ex, "Route source stopped unexpectedly; serving the last route table without updates");
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        // The router must come up, and keep serving, while Redis is away; the multiplexer reconnects by
        // itself, and through Sentinel follows a failover. With Redis down this takes the whole connect
        // timeout (through Sentinel: until a sentinel names a primary); shutdown should not wait for it.
        await using var redis = await Paas.Core.Configuration.RedisConnection.ConnectAsync(_settings.Redis, "paas-router",
            message => _logger.LogWarning("Redis: {Message}", message), stop);
        redis.ConnectionFailed += OnConnectionFailed;
        redis.ConnectionRestored += OnConnectionRestored;
        _redis = redis;
        _accessLog.AppLogs.Connect(redis);

        var queue = await SubscribeAsync(redis, stop);
        _work.Writer.TryWrite(Work.Resync("startup"));

        var timer = ResyncPeriodicallyAsync(stop);
        var heartbeats = CheckHeartbeatsPeriodicallyAsync(redis, stop);
        var acknowledgements = _acknowledger.RunAsync(redis, stop);
        try
        {
            await ProcessAsync(redis.GetDatabase(), stop);
        }
        finally
        {
            _redis = null;
            redis.ConnectionFailed -= OnConnectionFailed;
            redis.ConnectionRestored -= OnConnectionRestored;
            await IgnoreFailure(queue.UnsubscribeAsync(CommandFlags.FireAndForget));
            await IgnoreFailure(timer);
            await IgnoreFailure(heartbeats);
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
                await Task.Delay(TimeSpan.FromMilliseconds(250), _time, stop);
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
                _logger.LogInformation("Subscribed to {Channel}", _keys.Changes);
                return queue;
            }
            catch (Exception ex) when ((ex is RedisException or TimeoutException) && !stop.IsCancellationRequested)
            {
                failures++;
                LogRedisTrouble(failures, ex, "Subscribing to route changes failed; retrying");
                // A half-registered subscription would later deliver every message twice, possibly out of order.
                await IgnoreFailure(subscriber.UnsubscribeAsync(RedisChannel.Literal(_keys.Changes)));
                await Task.Delay(Backoff(failures), _time, stop);
            }
        }
    }

    private async Task ResyncPeriodicallyAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_settings.ResyncInterval, _time);
        while (await timer.WaitForNextTickAsync(stop))
        {
            _work.Writer.TryWrite(Work.Resync(Work.PeriodicReason));
        }
    }

    private async Task CheckHeartbeatsPeriodicallyAsync(ConnectionMultiplexer redis, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_settings.HeartbeatCheckInterval, _time);
        while (await timer.WaitForNextTickAsync(stop))
        {
            var cells = _store.Current.Cells.ToArray();
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
                // Unreachable Redis proves nothing about the cells: prune nothing.
                _logger.LogDebug("Heartbeat check failed: {Error}", ex.Message);
                continue;
            }

            Interlocked.Exchange(ref _lastSync, Stopwatch.GetTimestamp());
            var forgiving = Stopwatch.GetTimestamp() < Interlocked.Read(ref _graceUntil);
            var silent = new List<string>();
            for (var i = 0; i < cells.Length; i++)
            {
                // During the grace after a reconnect only revivals count; a cell already dead stays dead.
                if (values[i].IsNull && (!forgiving || _store.Current.DeadCells.Contains(cells[i])))
                {
                    silent.Add(cells[i]);
                }
            }

            var dead = await _silentCells.DeadAmongAsync(silent, _store.Current, stop);
            _work.Writer.TryWrite(Work.Cells(dead));
        }
    }

    private async Task ProcessAsync(IDatabase db, CancellationToken stop)
    {
        while (await _work.Reader.WaitToReadAsync(stop))
        {
            // Everything already queued is applied to one builder and published as one snapshot, so a burst
            // of changes costs one table copy rather than one per message.
            var builder = new RouteTableBuilder(_store.Current);
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
                        Interlocked.Exchange(ref _lastSync, Stopwatch.GetTimestamp());
                    }
                    else
                    {
                        await ResyncAsync(db, reason, stop);
                    }

                    builder = new RouteTableBuilder(_store.Current);
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
            if (!_missedMessage && _loadedOnce)
            {
                _acknowledger.Served(_completeVersion);
            }
        }
    }

    private void PublishBuilt(RouteTableBuilder builder)
    {
        if (!builder.HasChanges)
        {
            return;
        }

        var next = builder.Build(_store.Current.Version + 1);
        _store.Publish(next);
        _logger.LogDebug("Applied route changes; table version {Version}", next.Version);
    }

    private void Apply(RouteTableBuilder builder, string payload)
    {
        if (!TableChange.TryParse(payload, out var change))
        {
            _logger.LogWarning("Ignoring unreadable route change message ({Length} bytes); resyncing", payload.Length);
            _work.Writer.TryWrite(Work.Resync("unreadable message"));
            return;
        }

        if (change.Kind == RouteChangeKind.EndpointDown)
        {
            // Another router (or this one) saw the instance refuse a connection: skip it here too.
            if (_store.Current.Instances.TryGetValue(change.Key, out var endpoint)
                && long.TryParse(change.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms is > 0 and <= 600_000)
            {
                endpoint.State.CoolDown(PassiveHealth.Now + ms);
            }

            return;
        }

        if (change.Version is { } version)
        {
            if (version <= _tableVersion)
            {
                // Either a reload already read this write (it ran between the write and this message's
                // arrival), and applying it now could undo a later write that reload also read; or the
                // counter started again (Redis flushed): one read of the counter tells which.
                _work.Writer.TryWrite(Work.Resync(Work.CheckReason));
                return;
            }

            if (version != _tableVersion + 1 && _loadedOnce)
            {
                _missedMessage = true;
                _logger.LogWarning("Route change {Version} arrived while the table is at {TableVersion}; a change was lost, reloading",
                    version, _tableVersion);
                _work.Writer.TryWrite(Work.Resync("lost message"));
            }

            _tableVersion = version;
            if (!_missedMessage)
            {
                _completeVersion = version;
            }
        }

        if (!builder.TryApply(change))
        {
            _logger.LogWarning("Ignoring invalid {Kind} for {Key}; resyncing", change.Kind, change.Key);
            _work.Writer.TryWrite(Work.Resync("invalid message"));
        }
    }

    private async Task ResyncAsync(IDatabase db, string reason, CancellationToken stop)
    {
        HashEntry[] hosts, routes, appOptions;
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
            // Set, not raised to: a Redis restored from an older snapshot has an older counter, and the
            // messages that follow count from it.
            _tableVersion = ParseVersion(await versionTask);
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
        var table = _store.Current;
        if (!_loadedOnce || !StoredRoutes.Match(table, hosts, routes, appOptions))
        {
            table = Rebuild(table, hosts, routes, appOptions);
            _store.Publish(table);
        }

        // With 100,000 routes these arrays are large objects, which only a full collection frees. Left
        // holding the entries after they are dead, they would keep every value they name alive through the
        // young collections until then: 22 MB per reload, copied with the loops paused (measured).
        Array.Clear(hosts);
        Array.Clear(routes);
        Array.Clear(appOptions);
        Interlocked.Exchange(ref _lastSync, Stopwatch.GetTimestamp());

        if (!_loadedOnce)
        {
            WarmUpChangePath(table);

            // The first table is most of what this process will ever keep. Left young, it is copied by
            // the first gen1 collection, whenever that comes, with every loop paused (265 ms for 100,000
            // routes, measured); moved to gen2 now, it is copied once, while the router is just starting.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        }

        var level = _loadedOnce && _resyncFailures == 0 ? LogLevel.Debug : LogLevel.Information;
        _logger.Log(level, "Loaded {Hosts} hosts and {Routes} routes from Redis ({Reason}); table version {Version}",
            table.Hosts.Count, table.Instances.Count, reason, table.Version);
        _loadedOnce = true;
        _resyncFailures = 0;
        _completeVersion = _tableVersion;
        _missedMessage = false;
    }

    /// <summary>
    /// Runs one change of every kind through the path messages take, on a builder whose table is thrown
    /// away. A full load never runs that path, so without this the first changes after a start waited for
    /// the JIT (68 ms for the first host at 100,000 routes, measured; the propagation goal is 100 ms).
    /// </summary>
    private static void WarmUpChangePath(RouteTable table)
    {
        // ".invalid" is reserved (RFC 2606): no real host or app can be touched, and nothing is published anyway.
        const string Host = "paas-warm-up.invalid", App = "paas-warm-up", Instance = "paas-warm-up-web-1";
        var registration = RoutingJson.Write(new RouteEntry(Instance, App, "web", 1, "127.0.0.1:9"));
        var options = RoutingJson.Write(new AppRouteOptions(TimeoutSeconds: 5));
        foreach (var (kind, key, value) in new[]
        {
            (RouteChange.RouteSet, Instance, registration),
            (RouteChange.HostSet, Host, App),
            (RouteChange.AppOptionsSet, App, options),
            (RouteChange.HostDel, Host, null),
            (RouteChange.AppOptionsDel, App, null),
            (RouteChange.RouteDel, Instance, null),
        })
        {
            var message = RoutingJson.Write(new RouteChange(kind, key, value));
            if (TableChange.TryParse(message, out var change))
            {
                var builder = new RouteTableBuilder(table);
                builder.TryApply(change);
                table = builder.Build(table.Version + 1);
                table.Lookup(Host);
            }
        }
    }

    /// <summary>The next table, from what Redis holds; endpoints whose registration is unchanged are reused.</summary>
    private RouteTable Rebuild(RouteTable current, HashEntry[] hosts, HashEntry[] routes, HashEntry[] appOptions)
    {
        var endpoints = new List<InstanceEndpoint>(routes.Length);
        foreach (var entry in routes)
        {
            var instance = entry.Name.ToString();
            var json = entry.Value.ToString();
            if (current.InstanceMap.TryGetValue(instance, out var known) && known.Config.Source == json)
            {
                endpoints.Add(known.Config);
            }
            else if (InstanceEndpoint.TryParse(instance, json, out var endpoint))
            {
                endpoints.Add(endpoint);
            }
            else
            {
                _logger.LogWarning("Skipping unreadable route entry {Instance}", instance);
            }
        }

        var options = new List<KeyValuePair<string, AppRouteConfig>>(appOptions.Length);
        foreach (var entry in appOptions)
        {
            if (AppRouteConfig.TryParse(entry.Value.ToString(), out var config))
            {
                options.Add(KeyValuePair.Create(entry.Name.ToString(), config));
            }
            else
            {
                _logger.LogWarning("Skipping unreadable app options for {App}", entry.Name.ToString());
            }
        }

        var hostPairs = hosts.Select(h => KeyValuePair.Create(h.Name.ToString(), h.Value.ToString())).ToList();
        return RouteTable.Build(current.Version + 1, hostPairs, endpoints, options, previous: current);
    }

    private async Task<bool> IsTableCurrentAsync(IDatabase db, CancellationToken stop)
    {
        try
        {
            return ParseVersion(await db.StringGetAsync(_keys.Version).WaitAsync(stop)) == _tableVersion;
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
        _ = Task.Delay(delay, _time).ContinueWith(
            _ => _work.Writer.TryWrite(Work.Resync(Work.RetryReason)), TaskScheduler.Default);
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        // The multiplexer reports every failed reconnect attempt; only the first of an outage is worth a warning.
        if (Interlocked.Exchange(ref _connectionDown, 1) == 0)
        {
            _logger.LogWarning("Lost connection to Redis ({FailureType}); serving the last route table", e.FailureType);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (Interlocked.Exchange(ref _connectionDown, 0) == 1)
        {
            _logger.LogInformation("Reconnected to Redis");
        }

        Interlocked.Exchange(ref _graceUntil, Stopwatch.GetTimestamp() + (long)(_settings.HeartbeatGrace.TotalSeconds * Stopwatch.Frequency));

        // Messages published while we were away are gone for good; a reload is the only way to catch up.
        _work.Writer.TryWrite(Work.Resync("reconnected"));
    }

    private void LogRedisTrouble(int failures, Exception ex, string what)
    {
        // First failure of a streak is a warning with the cause; the rest would only repeat it every few seconds.
        var level = failures == 1 ? LogLevel.Warning : LogLevel.Debug;
        _logger.Log(level, "{What} (attempt {Attempt}): {Error}", what, failures, ex.Message);
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
