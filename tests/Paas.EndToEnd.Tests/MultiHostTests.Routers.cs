using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;
using StackExchange.Redis;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// Routers on any host: a second router in a host serves the same apps, reaching instances on every host, and
/// deploys wait for every live router's acknowledgement (Redis keys routers:ID:applied, see Paas.Core's
/// RouteKeys and RouterAcknowledgement), and for no router that is gone.
/// </summary>
public sealed partial class MultiHostTests
{
    private const string RouterHost = "h3";
    private const int SecondRouterPort = 8180;

    // Paas.Core's RouteKeys, spelled out: this project starts the platform's programs, it does not link them.
    private string AppliedKey(string router) => $"{platform.RedisPrefix}routers:{router}:applied";

    private string RoutersKey => $"{platform.RedisPrefix}routers";

    [Fact]
    public async Task SecondRouterInAHost_ServesTheSameApps_ReachingEveryHost_AndADeployWaitsForBothRouters()
    {
        using var redis = await ConnectionMultiplexer.ConnectAsync(platform.RedisServer.Configuration);
        var db = redis.GetDatabase();
        const string second = "router-h3";
        var router = platform.StartRouter(RouterHost, second, SecondRouterPort);
        try
        {
            await WaitUntilAsync(() => db.KeyExistsAsync(AppliedKey(second)), TimeSpan.FromSeconds(30), () => router.Output);
            await using var changes = await RouteChanges.SubscribeAsync(redis, platform.RedisPrefix);

            var app = await SpreadOverThreeHostsAsync("routers");
            var ids = (await app.InstancesAsync()).Where(Running).Select(i => i.GetProperty("instance").GetString()!).ToHashSet();
            // When the deploy returned, both routers had acknowledged every route it wrote.
            var written = changes.Seen.Where(c => c.Kind == "route-set" && ids.Contains(c.Key)).Max(c => c.Version);
            var routers = (await db.HashKeysAsync(RoutersKey)).Select(r => r.ToString()).ToList();
            Assert.Equal(2, routers.Count);
            Assert.Contains(second, routers);
            foreach (var id in routers)
                Assert.True((long)await db.StringGetAsync(AppliedKey(id)) >= written, $"router {id} is behind route version {written}");

            // The second router serves the app, from the main host, at its host's address; its table lists the
            // three instances, one per host, and after the GETs none is cooling: it reached every host.
            var host = platform.Host(RouterHost);
            var answers = new List<string>();
            for (var i = 0; i < 9; i++)
                answers.Add(await GetThroughAsync(host.Address, SecondRouterPort, app.Name));
            Assert.All(answers, a => Assert.StartsWith("200 ", a));
            Assert.Contains("Hello from static v1", answers[0]);
            var endpoints = await SecondRouterEndpointsAsync(host, app.Name);
            Assert.Equal(ids.Order(), endpoints.Select(e => e.GetProperty("instance").GetString()!).Order());
            Assert.Equal(MultiHostPlatform.HostLayout.Select(h => platform.Host(h.Name).Address).Order(),
                endpoints.Select(e => e.GetProperty("address").GetString()!.Split(':')[0]).Order());
            Assert.All(endpoints, e => Assert.False(e.GetProperty("cooling").GetBoolean(), $"{e} is cooling: the router in {RouterHost} could not reach it"));

            // A deploy waits for both. The second router is frozen (SIGSTOP, as a paused VM or a long GC would
            // hold it) while its key is kept alive, as a live router that is behind; it thaws 1.5 s after the
            // route write. The scale returns only after the thaw, with the router at the write's version.
            using var keepAlive = new CancellationTokenSource();
            var alive = KeepAliveAsync(db, AppliedKey(second), keepAlive.Token);
            Linux.Signal(router.Id, Linux.SigStop);
            long thawedAt;
            (ProcessResult Result, long At) scaled;
            RouteChanges.Change write;
            try
            {
                // When the command itself finished, not when the test got round to awaiting it.
                var scale = FinishedAtAsync(app.PaasAsync("ps:scale", "web=4"));
                write = await changes.WaitForAsync(c => c.Kind == "route-set" && !ids.Contains(c.Key) && c.Value?.Contains($"\"{app.Name}\"") == true, TimeSpan.FromSeconds(60));
                await Task.Delay(TimeSpan.FromSeconds(1.5));
                thawedAt = Stopwatch.GetTimestamp();
                keepAlive.Cancel();
                await alive;
                Linux.Signal(router.Id, Linux.SigCont);
                scaled = await scale;
            }
            finally
            {
                keepAlive.Cancel();
                Linux.Signal(router.Id, Linux.SigCont);
            }
            var doneAt = scaled.At;
            AppUnderTest.Must(scaled.Result);
            var applied = (long)await db.StringGetAsync(AppliedKey(second));
            log.WriteLine($"route write -> scale returned: {Stopwatch.GetElapsedTime(write.At, doneAt).TotalSeconds:0.00} s (second router frozen until {Stopwatch.GetElapsedTime(write.At, thawedAt).TotalSeconds:0.00} s)");
            Assert.True(doneAt > thawedAt, $"the scale returned {Stopwatch.GetElapsedTime(doneAt, thawedAt).TotalSeconds:0.00} s before the frozen router thawed: it did not wait for it");
            Assert.True(applied >= write.Version, $"the second router acknowledged {applied}, behind the route write {write.Version}, when the scale returned");
            Assert.StartsWith("200 ", await GetThroughAsync(host.Address, SecondRouterPort, app.Name));

            // Both routers live and well: what waiting for two costs a deploy.
            var routeWait = await ScaleMeasuringRouteWaitAsync(app, 5, changes);
            log.WriteLine($"two live routers: route write -> scale returned: {routeWait.TotalSeconds:0.00} s");
            Assert.True(routeWait < TimeSpan.FromSeconds(1), $"the deploy waited {routeWait.TotalSeconds:0.00} s for two live routers");
        }
        finally
        {
            router.Stop();
        }
    }

    [Fact]
    public async Task ARouterThatStops_StopsCounting_AtOnceWhenStopped_AndWhenItsKeyExpiresWhenKilled()
    {
        using var redis = await ConnectionMultiplexer.ConnectAsync(platform.RedisServer.Configuration);
        var db = redis.GetDatabase();
        var app = await AppUnderTest.PushedAsync(platform, "router-gone", "static");
        await using var changes = await RouteChanges.SubscribeAsync(redis, platform.RedisPrefix);

        // Stopped (SIGTERM): it leaves the roster on its way out, and the next deploy does not wait for it.
        var stopped = platform.StartRouter(RouterHost, "router-stopped", SecondRouterPort);
        await WaitUntilAsync(() => db.KeyExistsAsync(AppliedKey("router-stopped")), TimeSpan.FromSeconds(30), () => stopped.Output);
        stopped.Stop();
        Assert.False(await db.KeyExistsAsync(AppliedKey("router-stopped")), "a stopped router still counts as live");
        Assert.False(await db.HashExistsAsync(RoutersKey, "router-stopped"), "a stopped router is still on the roster");
        var afterStop = await ScaleMeasuringRouteWaitAsync(app, 2, changes);
        log.WriteLine($"router stopped -> next deploy's route wait: {afterStop.TotalSeconds:0.00} s");
        Assert.True(afterStop < TimeSpan.FromSeconds(1), $"the deploy waited {afterStop.TotalSeconds:0.00} s for routes after a router stopped");

        // Killed (SIGKILL): nothing leaves, so it counts until its key expires (5 s after its last refresh);
        // the deploy started at once waits out no more than that, never its whole 5 s confirmation limit.
        var killed = platform.StartRouter(RouterHost, "router-killed", SecondRouterPort);
        await WaitUntilAsync(() => db.KeyExistsAsync(AppliedKey("router-killed")), TimeSpan.FromSeconds(30), () => killed.Output);
        killed.Kill();
        var sinceKill = Stopwatch.StartNew();
        var expiry = Task.Run(async () =>
        {
            while (await db.KeyExistsAsync(AppliedKey("router-killed")) && sinceKill.Elapsed < TimeSpan.FromSeconds(20))
                await Task.Delay(50);
            return sinceKill.Elapsed;
        });
        var afterKill = await ScaleMeasuringRouteWaitAsync(app, 3, changes);
        var goneAfter = await expiry;
        log.WriteLine($"router killed -> its key gone after {goneAfter.TotalSeconds:0.00} s; the deploy started at once waited {afterKill.TotalSeconds:0.00} s for routes");
        Assert.True(goneAfter <= TimeSpan.FromSeconds(5.5), $"a killed router counted for {goneAfter.TotalSeconds:0.00} s");
        Assert.True(afterKill < TimeSpan.FromSeconds(4.5), $"the deploy waited {afterKill.TotalSeconds:0.00} s for a killed router");
        Assert.StartsWith("200 ", await app.GetAsync());
    }

    /// <summary>Scales web to <paramref name="web"/> (one more instance) and returns how long the command ran after its route write.</summary>
    private async Task<TimeSpan> ScaleMeasuringRouteWaitAsync(AppUnderTest app, int web, RouteChanges changes)
    {
        var before = (await app.InstancesAsync()).Select(i => i.GetProperty("instance").GetString()!).ToHashSet();
        var scale = app.PaasAsync("ps:scale", $"web={web}");
        var write = await changes.WaitForAsync(c => c.Kind == "route-set" && !before.Contains(c.Key) && c.Value?.Contains($"\"{app.Name}\"") == true, TimeSpan.FromSeconds(60));
        AppUnderTest.Must(await scale);
        return Stopwatch.GetElapsedTime(write.At);
    }

    private static async Task<(ProcessResult Result, long At)> FinishedAtAsync(Task<ProcessResult> run)
    {
        var result = await run;
        return (result, Stopwatch.GetTimestamp());
    }

    private static async Task KeepAliveAsync(IDatabase db, string key, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await db.KeyExpireAsync(key, TimeSpan.FromSeconds(5));
            try
            {
                await Task.Delay(300, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task<string> GetThroughAsync(string address, int port, string app)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{address}:{port}/");
        request.Headers.Host = PlatformFixture.AppHost(app);
        using var response = await platform.Http.SendAsync(request);
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    /// <summary>The app's endpoints in the second router's table: its admin port is on its host's loopback, so asked from inside the host.</summary>
    private static async Task<List<JsonElement>> SecondRouterEndpointsAsync(TestHost host, string app)
    {
        var routes = await host.RunAsync("curl", ["-sf", $"http://127.0.0.1:{SecondRouterPort + 1}/routes"]);
        Assert.True(routes.ExitCode == 0, routes.ToString());
        var table = JsonDocument.Parse(routes.Stdout).RootElement;
        return table.GetProperty("hosts").GetProperty(PlatformFixture.AppHost(app)).GetProperty("endpoints").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> diagnosis)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"Not true within {timeout.TotalSeconds} s:\n{diagnosis()}");
            await Task.Delay(100);
        }
    }

    /// <summary>The route changes published on the platform's channel (Paas.Core's RouteChange), each with when the test saw it.</summary>
    private sealed class RouteChanges : IAsyncDisposable
    {
        public sealed record Change(long At, string Kind, string Key, string? Value, long Version);

        private readonly ConcurrentQueue<Change> _seen = new();
        private ChannelMessageQueue? _queue;

        public IReadOnlyCollection<Change> Seen => _seen;

        public static async Task<RouteChanges> SubscribeAsync(IConnectionMultiplexer redis, string prefix)
        {
            var changes = new RouteChanges();
            changes._queue = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(prefix + "routes:changes"));
            changes._queue.OnMessage(message =>
            {
                var json = JsonDocument.Parse(message.Message.ToString()).RootElement;
                changes._seen.Enqueue(new Change(Stopwatch.GetTimestamp(), json.GetProperty("kind").GetString()!, json.GetProperty("key").GetString()!,
                    json.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null,
                    json.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.Number ? version.GetInt64() : -1));
            });
            return changes;
        }

        public async Task<Change> WaitForAsync(Func<Change, bool> match, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                if (_seen.FirstOrDefault(match) is { } found)
                    return found;
                await Task.Delay(10);
            }
            throw new TimeoutException($"No such route change within {timeout.TotalSeconds} s; seen: {string.Join("; ", _seen.Select(c => $"{c.Kind} {c.Key}"))}");
        }

        public async ValueTask DisposeAsync()
        {
            if (_queue is not null)
                await _queue.UnsubscribeAsync();
        }
    }
}
