using Paas.Core.Logs;
using Paas.Core.Routing;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// Redis holds every app's log and the routing table, so a Redis killed and started again must come back
/// with them: the platform's settings (deploy/redis/paas-redis.conf) keep an append-only file flushed every
/// second. Each test uses a redis-server of its own on a free port and a directory of its own.
/// </summary>
public sealed class RedisPersistenceTests(ITestOutputHelper log) : IAsyncLifetime
{
    private const string App = "durable";
    private const int Lines = 600;

    private readonly string _dir = Directory.CreateTempSubdirectory("paas-redis-durable-").FullName;
    private readonly int _port = RouterProcess.FreePort();
    private readonly LogKeys _logKeys = new("test:");
    private readonly RouteKeys _routeKeys = new("test:");
    private RedisServerProcess? _redis;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task LogLinesAndRoutesWrittenASecondBeforeAKillAreAllThereAfterARestart()
    {
        var (kept, route) = await WriteKillRestartAndReadAsync();

        log.WriteLine($"{kept.Count} of {Lines} log lines kept across kill -9 and restart");
        Assert.Equal(Expected(), kept.Select(l => $"{l.Source} {l.Process} {l.Text}"));
        Assert.Equal("""{"instance":"durable-web-1"}""", route);
    }

    [Fact]
    public async Task TheSettingsBeforeTheAppendOnlyFileLostEverythingInTheSameRestart()
    {
        // What deploy/setup.sh used to start Redis with. Kept as a test so the one above is known to be
        // able to fail: the same writes, the same kill and restart, and nothing comes back.
        var (kept, route) = await WriteKillRestartAndReadAsync("--appendonly", "no", "--save", "");

        log.WriteLine($"{kept.Count} of {Lines} log lines kept with --appendonly no");
        Assert.Empty(kept);
        Assert.Null(route);
    }

    private async Task<(IReadOnlyList<AppLogLine> Lines, string? Route)> WriteKillRestartAndReadAsync(params string[] options)
    {
        _redis = await RedisServerProcess.StartAsync(_port, _dir, options);
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(_redis.Endpoint))
        {
            // Both write paths: the controller's and cells' transaction, and the router's script.
            var writer = new AppLogWriter(redis, _logKeys, maxLines: 10_000, TimeProvider.System);
            var lines = Expected().Select(l => l.Split(' ', 3)).Select(p => new AppLogLine(DateTimeOffset.UtcNow, p[0], p[1], p[2])).ToArray();
            foreach (var batch in lines[..(Lines / 2)].Chunk(50))
            {
                await writer.WriteAsync(App, batch);
            }

            foreach (var batch in lines[(Lines / 2)..].Chunk(50))
            {
                await writer.AppendManyAsync(App, batch);
            }

            await new RouteWriter(redis, _routeKeys).SetRouteAsync("durable-web-1", """{"instance":"durable-web-1"}""");
        }

        // appendfsync everysec: what was written more than a second before the kill is on disk.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        _redis.Kill();
        await _redis.DisposeAsync();
        _redis = await RedisServerProcess.StartAsync(_port, _dir, options);

        await using var again = await ConnectionMultiplexer.ConnectAsync(_redis.Endpoint);
        var (kept, _) = await new AppLogReader(again, _logKeys, TimeProvider.System).ReadLastAsync(App, Lines * 2, AppLogFilter.All);
        string? route = await again.GetDatabase().HashGetAsync(_routeKeys.Routes, "durable-web-1");
        return (kept, route);
    }

    private static IEnumerable<string> Expected() =>
        Enumerable.Range(0, Lines).Select(i => i < Lines / 2 ? $"app web.1 line {i}" : $"router - line {i}");
}
