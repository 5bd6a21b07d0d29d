using Paas.Core.Routing;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using StackExchange.Redis;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// Redis going away and coming back must be invisible to end users. Uses a redis-server of its own on a
/// free loopback port (the shared one is never stopped), with an append-only file so it restarts with
/// its data, as a production Redis would.
/// </summary>
public sealed class RedisRestartTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("paas-router-redis-").FullName;
    private readonly int _port = RouterProcess.FreePort();
    private readonly string _prefix = $"test-{Guid.NewGuid():N}:";
    private Process? _redis;

    public async Task InitializeAsync() => _redis = await StartRedisAsync();

    public async Task DisposeAsync()
    {
        StopRedis();
        await Task.Yield();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task RedisStoppedAndRestartedUnderLoadFailsNoRequestAndChangesFlowAgain()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        var config = $"127.0.0.1:{_port}";
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(config))
        {
            var routes = new RouteWriter(redis, new RouteKeys(_prefix));
            await routes.SetHostAsync("load.localhost", "load");
            await routes.SetRouteAsync("load-web-a", Route("load-web-a", a.Address));
        }

        await using var router = await RouterProcess.StartAsync(config, _prefix);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
        await EventuallyOkAsync(http, router);

        using var stop = new CancellationTokenSource();
        var ok = 0;
        var failures = new List<string>();
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!stop.IsCancellationRequested && DateTime.UtcNow < deadline)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, router.PublicUrl);
                    request.Headers.Host = "load.localhost";
                    using var response = await http.SendAsync(request);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref ok);
                    }
                    else
                    {
                        lock (failures) failures.Add(((int)response.StatusCode).ToString());
                    }
                }
                catch (Exception ex)
                {
                    lock (failures) failures.Add(ex.Message);
                }
            }
        })).ToArray();

        await Task.Delay(500);
        StopRedis();
        var okWhenStopped = Volatile.Read(ref ok);
        await Task.Delay(1500);
        var servedWhileDown = Volatile.Read(ref ok) - okWhenStopped;
        _redis = await StartRedisAsync();

        // After the restart a change still reaches the router: it has resubscribed and resynced by itself.
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(config))
        {
            await new RouteWriter(redis, new RouteKeys(_prefix)).SetRouteAsync("load-web-b", Route("load-web-b", b.Address));
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (b.Hits == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.Empty(failures);
        Assert.True(servedWhileDown > 20, $"only {servedWhileDown} requests served while Redis was down");
        Assert.True(b.Hits > 0, "the route added after the restart never received traffic\n" + router.Output);
    }

    private static string Route(string instance, string address) =>
        JsonSerializer.Serialize(new { instance, app = "load", process = "web", release = 1, address });

    private static async Task EventuallyOkAsync(HttpClient http, RouterProcess router)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, router.PublicUrl);
            request.Headers.Host = "load.localhost";
            using var response = await http.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "router never served the initial route");
            await Task.Delay(50);
        }
    }

    private async Task<Process> StartRedisAsync()
    {
        var start = new ProcessStartInfo("/usr/bin/redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", _port.ToString(), "--bind", "127.0.0.1", "--dir", _dir, "--appendonly", "yes",
                     "--appendfsync", "always", "--save", "", "--daemonize", "no" })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await using var probe = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{_port},connectTimeout=500");
                if (probe.IsConnected)
                {
                    return process;
                }
            }
            catch (RedisConnectionException)
            {
            }

            Assert.False(process.HasExited, "redis-server exited at start");
            await Task.Delay(100);
        }

        throw new TimeoutException("redis-server did not start");
    }

    private void StopRedis()
    {
        if (_redis is { HasExited: false })
        {
            _redis.Kill();
            _redis.WaitForExit(5000);
        }

        _redis?.Dispose();
        _redis = null;
    }
}
