using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Paas.Core.Configuration;
using Paas.Core.Routing;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// Redis Sentinel, the documented way to survive losing the Redis machine: a primary, a replica and three
/// sentinels, all of the test's own on free loopback ports, each Redis with the platform's settings
/// (deploy/redis/start.sh). A real router connects through the sentinels (PAAS_REDIS names them and the
/// service); the primary is killed under load. Nobody may notice: no request fails, and a route written
/// to the new primary afterwards reaches the router (its subscription followed the failover).
/// </summary>
public sealed class RedisSentinelFailoverTests(ITestOutputHelper log) : IAsyncLifetime
{
    private const string Service = "paas";
    private readonly string _dir = Directory.CreateTempSubdirectory("paas-redis-sentinel-").FullName;
    private readonly string _prefix = $"test-{Guid.NewGuid():N}:";
    private readonly List<RedisServerProcess> _processes = [];
    private RedisServerProcess _primary = null!;
    private readonly List<RedisServerProcess> _sentinels = [];

    private string SentinelConfiguration =>
        string.Join(',', _sentinels.Select(s => s.Endpoint)) + $",serviceName={Service},connectTimeout=2000";

    public async Task InitializeAsync()
    {
        // xunit does not dispose a class whose initialisation failed; the processes must not outlive it.
        try
        {
            _primary = Track(await RedisServerProcess.StartAsync(RouterProcess.FreePort(), Path.Combine(_dir, "primary")));
            Track(await RedisServerProcess.StartAsync(RouterProcess.FreePort(), Path.Combine(_dir, "replica"),
                "--replicaof", "127.0.0.1", _primary.Port.ToString()));
            for (var i = 0; i < 3; i++)
            {
                _sentinels.Add(Track(await RedisServerProcess.StartSentinelAsync(RouterProcess.FreePort(), Path.Combine(_dir, $"sentinel-{i}"),
                    Service, _primary.Port, quorum: 2)));
            }

            // A failover needs the sentinels to know each other (for the quorum) and the replica (to promote it).
            await WaitForAsync(TimeSpan.FromSeconds(30), "sentinels ready for a failover", async () =>
            {
                try
                {
                    foreach (var sentinel in _sentinels)
                    {
                        // Answers NOQUORUM (an error) until enough sentinels have heard of each other.
                        var quorum = await SentinelAsync(sentinel, "CKQUORUM", Service);
                        var replicas = (RedisResult[])(await SentinelAsync(sentinel, "REPLICAS", Service))!;
                        if (!quorum.ToString().Contains("3 usable") || replicas.Length != 1)
                        {
                            return false;
                        }
                    }

                    return true;
                }
                catch (RedisServerException)
                {
                    return false;
                }
            });
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        _processes.Clear();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task PrimaryKilledUnderLoadFailsNoRequestAndLaterRouteChangesReachTheRouter()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        await using var c = await TestBackend.StartAsync("c");
        await using var writer = await RedisConnection.ConnectAsync(SentinelConfiguration, "test-writer");
        var routes = new RouteWriter(writer, new RouteKeys(_prefix));
        await routes.SetHostAsync("ha.localhost", "ha");
        await routes.SetRouteAsync("ha-web-a", Route("ha-web-a", a.Address));

        // No periodic reload within the test: a change that arrives came through the subscription (or a reconnect's reload).
        await using var router = await RouterProcess.StartAsync(SentinelConfiguration, _prefix,
            new Dictionary<string, string> { ["PAAS_ROUTER_RESYNC_SECONDS"] = "600" });
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
        // Start-up, before any fault: on a loaded machine the router's first table (through the sentinels) can take
        // longer than one request's timeout, and a request that waits for it is asked again rather than failing the test.
        await WaitForAsync(TimeSpan.FromSeconds(30), "the router serving the first route", async () =>
        {
            try
            {
                return await GetAsync(http, router) == HttpStatusCode.OK;
            }
            catch (TaskCanceledException)
            {
                return false;
            }
        });

        using var stop = new CancellationTokenSource();
        var ok = 0;
        var failures = new List<string>();
        var loadDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && DateTime.UtcNow < loadDeadline)
            {
                try
                {
                    var status = await GetAsync(http, router);
                    if (status == HttpStatusCode.OK)
                        Interlocked.Increment(ref ok);
                    else
                        lock (failures) failures.Add(((int)status).ToString());
                }
                catch (Exception ex)
                {
                    lock (failures) failures.Add(ex.Message);
                }
            }
        })).ToArray();

        await Task.Delay(1000);
        var oldPrimary = _primary.Endpoint;
        var failover = Stopwatch.StartNew();
        _primary.Kill();
        string? newPrimary = null;
        await WaitForAsync(TimeSpan.FromSeconds(20), "the sentinels to promote the replica", async () =>
        {
            var address = (RedisResult[])(await SentinelAsync(_sentinels[0], "GET-MASTER-ADDR-BY-NAME", Service))!;
            newPrimary = $"{address[0]}:{address[1]}";
            return newPrimary != oldPrimary;
        });
        var promoted = failover.Elapsed;

        // Written through a Sentinel-managed connection, as the controller writes routes: it has to find
        // the new primary by itself too.
        await WaitForAsync(TimeSpan.FromSeconds(15), "a route write to the new primary", async () =>
        {
            try
            {
                await routes.SetRouteAsync("ha-web-b", Route("ha-web-b", b.Address));
                return true;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                return false;
            }
        });
        var written = failover.Elapsed;
        await WaitForAsync(TimeSpan.FromSeconds(15), "the route written after the failover to receive traffic" + "\n" + router.Output,
            () => Task.FromResult(b.Hits > 0));
        var routed = failover.Elapsed;

        // Later, once any reconnect's reload is long over, a change still arrives at once: only the
        // subscription, re-established on the new primary, can bring it.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var published = Stopwatch.StartNew();
        await routes.SetRouteAsync("ha-web-c", Route("ha-web-c", c.Address));
        await WaitForAsync(TimeSpan.FromSeconds(3), "a later route change to arrive through the subscription\n" + router.Output,
            () => Task.FromResult(c.Hits > 0));
        var subscribed = published.Elapsed;

        await stop.CancelAsync();
        await Task.WhenAll(load);

        log.WriteLine($"failover {oldPrimary} -> {newPrimary}: promoted after {promoted.TotalSeconds:F1} s, " +
                      $"route written after {written.TotalSeconds:F1} s, routed after {routed.TotalSeconds:F1} s");
        log.WriteLine($"a change 2 s later reached the router in {subscribed.TotalMilliseconds:F0} ms");
        log.WriteLine($"{ok} requests through the router, {failures.Count} failed");
        log.WriteLine(string.Join('\n', router.Output.Split('\n').Where(l => l.Contains("Redis") || l.Contains("Subscribed"))));
        Assert.True(failures.Count == 0, $"{failures.Count} of {ok + failures.Count} requests failed: {string.Join("; ", failures.Distinct().Take(5))}");
        Assert.True(ok > 100, $"only {ok} requests were served");
    }

    private RedisServerProcess Track(RedisServerProcess process)
    {
        _processes.Add(process);
        return process;
    }

    private static async Task<RedisResult> SentinelAsync(RedisServerProcess sentinel, params object[] arguments)
    {
        await using var connection = await ConnectionMultiplexer.SentinelConnectAsync($"{sentinel.Endpoint},connectTimeout=2000");
        return await connection.GetServer(sentinel.Endpoint).ExecuteAsync("SENTINEL", arguments);
    }

    private static async Task<HttpStatusCode> GetAsync(HttpClient http, RouterProcess router)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, router.PublicUrl);
        request.Headers.Host = "ha.localhost";
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task WaitForAsync(TimeSpan timeout, string what, Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out after {timeout.TotalSeconds} s waiting for {what}");
            await Task.Delay(100);
        }
    }

    private static string Route(string instance, string address) =>
        JsonSerializer.Serialize(new { instance, app = "ha", process = "web", release = 1, address });
}
