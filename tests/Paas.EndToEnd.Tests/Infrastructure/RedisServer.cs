using System.Diagnostics;
using System.Net.Sockets;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A Redis of the test's own, for platforms whose parts run in <see cref="TestHost"/>s: the machine's shared Redis
/// listens on 127.0.0.1 only, which a namespace cannot reach, and is not rebound. This one listens on loopback
/// (for the main host's processes) and on a given address, normally <see cref="TestNetwork.Gateway"/> (for the
/// hosts'), on a free port, keeps nothing on disk, and stops when disposed.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly PlatformProcess _process;
    private readonly string _directory;

    private RedisServer(PlatformProcess process, string directory, string hostAddress, int port)
    {
        _process = process;
        _directory = directory;
        Address = $"{hostAddress}:{port}";
        LoopbackAddress = $"127.0.0.1:{port}";
    }

    /// <summary>HOST:PORT as hosts reach it (PAAS_REDIS for a cell agent in a host).</summary>
    public string Address { get; }

    /// <summary>127.0.0.1:PORT, for processes on the main host.</summary>
    public string LoopbackAddress { get; }

    public string Output => _process.Output;

    public static async Task<RedisServer> StartAsync(string hostAddress)
    {
        var directory = OwnedDirectory.Create("paas-redis-");
        var port = FreePort.Next();
        // Protected mode would refuse the hosts (it admits only loopback clients when there is no password); the
        // binding keeps it on loopback and the test network's bridge.
        var process = new PlatformProcess(ProcessRunner.StartInfo("redis-server",
            ["--bind", "127.0.0.1", hostAddress, "--port", port.ToString(), "--protected-mode", "no",
             "--dir", directory, "--save", "", "--appendonly", "no", "--daemonize", "no"],
            null, new Dictionary<string, string>()));
        OwnedDirectory.RecordServer(directory, process.Id);
        var redis = new RedisServer(process, directory, hostAddress, port);
        try
        {
            await redis.WaitReadyAsync(port, TimeSpan.FromSeconds(20));
        }
        catch
        {
            await redis.DisposeAsync();
            throw;
        }
        return redis;
    }

    private async Task WaitReadyAsync(int port, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"redis-server exited before it answered:\n{Output}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var reply = new byte[7];
                var read = await stream.ReadAsync(reply);
                if (System.Text.Encoding.ASCII.GetString(reply, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
                    return;
            }
            catch (SocketException)
            {
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"redis-server did not answer within {timeout.TotalSeconds} s:\n{Output}");
    }

    public ValueTask DisposeAsync()
    {
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
