using System.Diagnostics;
using System.Net.Sockets;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A Redis of the test's own, for platforms whose parts run in <see cref="TestHost"/>s: the machine's shared Redis
/// listens on 127.0.0.1 only, which a namespace cannot reach, and is not rebound. This one listens on loopback
/// (for the main host's processes) and on a given address, normally <see cref="TestNetwork.Gateway"/> (for the
/// hosts'), on a free port, keeps nothing on disk, and stops when disposed. It requires a password
/// (<see cref="Password"/>, requirepass), as the platform's Redis does: every component is given
/// <see cref="Configuration"/>, and a client without the password is answered NOAUTH.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly PlatformProcess _process;
    private readonly string _directory;

    private RedisServer(PlatformProcess process, string directory, string hostAddress, int port, string password)
    {
        _process = process;
        _directory = directory;
        Address = $"{hostAddress}:{port}";
        LoopbackAddress = $"127.0.0.1:{port}";
        Password = password;
    }

    /// <summary>What every client must present (AUTH); random per server.</summary>
    public string Password { get; }

    /// <summary>PAAS_REDIS for any component, on the main host or in a host: <see cref="Address"/> with the password.</summary>
    public string Configuration => $"{Address},password={Password}";

    /// <summary>HOST:PORT as hosts reach it (PAAS_REDIS for a cell agent in a host).</summary>
    public string Address { get; }

    /// <summary>127.0.0.1:PORT, for processes on the main host.</summary>
    public string LoopbackAddress { get; }

    public string Output => _process.Output;

    public static async Task<RedisServer> StartAsync(string hostAddress)
    {
        var directory = OwnedDirectory.Create("paas-redis-");
        var port = FreePort.Next();
        var password = Guid.NewGuid().ToString("N");
        // The password goes in a configuration file read from stdin ("-"), not on the command line, where any
        // local user could read it in /proc. The binding keeps it on loopback and the test network's bridge.
        var start = ProcessRunner.StartInfo("redis-server",
            ["-", "--bind", "127.0.0.1", hostAddress, "--port", port.ToString(),
             "--dir", directory, "--save", "", "--appendonly", "no", "--daemonize", "no"],
            null, new Dictionary<string, string>());
        start.RedirectStandardInput = true;
        var process = new PlatformProcess(start);
        await process.WriteInputAsync($"requirepass {password}\n", close: true);
        OwnedDirectory.RecordServer(directory, process.Id);
        var redis = new RedisServer(process, directory, hostAddress, port, password);
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
                var reply = await CommandAsync(stream, $"AUTH {Password}\r\nPING\r\n");
                if (reply.Contains("+PONG", StringComparison.Ordinal))
                    return;
            }
            catch (SocketException)
            {
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"redis-server did not answer within {timeout.TotalSeconds} s:\n{Output}");
    }

    /// <summary>
    /// Sends raw RESP commands to <paramref name="address"/> (HOST:PORT) on a fresh connection, with no
    /// password unless the commands say AUTH, and returns what the server answered first.
    /// </summary>
    public static async Task<string> SendAsync(string address, string commands)
    {
        var colon = address.LastIndexOf(':');
        using var client = new TcpClient();
        await client.ConnectAsync(address[..colon], int.Parse(address[(colon + 1)..]));
        return await CommandAsync(client.GetStream(), commands);
    }

    private static async Task<string> CommandAsync(NetworkStream stream, string commands)
    {
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(commands));
        var reply = new byte[512];
        var read = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        // Every command's reply is one line; read until each has answered.
        var expected = commands.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length;
        while (read < reply.Length && System.Text.Encoding.ASCII.GetString(reply, 0, read).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length < expected)
        {
            var n = await stream.ReadAsync(reply.AsMemory(read), timeout.Token);
            if (n == 0)
                break;
            read += n;
        }
        return System.Text.Encoding.ASCII.GetString(reply, 0, read);
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
