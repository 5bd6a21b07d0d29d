using System.Diagnostics;
using System.Net;
using StackExchange.Redis;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// deploy/redis/start.sh with PAAS_REDIS_BIND: a multi-host controller host lets cell hosts reach Redis on its
/// cluster address, and Redis there still refuses a client without the password. 127.0.0.2 stands for the
/// cluster address: an address of this machine's own, on loopback, so no traffic leaves it.
/// </summary>
public sealed class RedisBindTests : IDisposable
{
    private static readonly IPAddress SecondAddress = IPAddress.Parse("127.0.0.2");
    private readonly string _dir = Directory.CreateTempSubdirectory("paas-redis-bind-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WithPassword(string password)
    {
        var dir = Path.Combine(_dir, "redis");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "password"), password);
        return dir;
    }

    [Fact]
    public async Task SecondBindAddress_IsListenedOn_AndRefusesAClientWithoutThePassword()
    {
        const string password = "bind-test-password";
        var port = RouterProcess.FreePort();
        await using var redis = await RedisServerProcess.StartWithEnvironmentAsync(port, WithPassword(password),
            new Dictionary<string, string> { ["PAAS_REDIS_BIND"] = $"127.0.0.1 {SecondAddress}" });

        Assert.StartsWith("-NOAUTH", await RedisServerProcess.PingAsync(SecondAddress, port));
        await using var client = await ConnectionMultiplexer.ConnectAsync($"{SecondAddress}:{port},password={password},abortConnect=false,connectTimeout=3000");
        Assert.True(client.IsConnected, redis.Output);
        Assert.True((await client.GetDatabase().PingAsync()) < TimeSpan.FromSeconds(5));
        // Loopback, where set-up and this host's components connect, stays.
        Assert.StartsWith("-NOAUTH", await RedisServerProcess.PingAsync(IPAddress.Loopback, port));
    }

    [Fact]
    public async Task ByDefault_OnlyLoopbackIsListenedOn()
    {
        var port = RouterProcess.FreePort();
        await using var redis = await RedisServerProcess.StartAsync(port, WithPassword("default-bind-password"));

        Assert.Null(await RedisServerProcess.PingAsync(SecondAddress, port));
        Assert.StartsWith("-NOAUTH", await RedisServerProcess.PingAsync(IPAddress.Loopback, port));
    }

    [Fact]
    public async Task AnAddressBeyondLoopback_WithoutAPassword_IsRefusedWithOneSentence()
    {
        var start = new ProcessStartInfo(Path.Combine(RedisServerProcess.RepoRoot(), "deploy", "redis", "start.sh"))
        {
            ArgumentList = { RouterProcess.FreePort().ToString(), Path.Combine(_dir, "no-password") },
            Environment = { ["PAAS_REDIS_BIND"] = "127.0.0.1 10.0.0.5" },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("10.0.0.5", Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }
}
