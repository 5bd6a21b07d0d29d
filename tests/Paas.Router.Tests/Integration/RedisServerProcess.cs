using System.Diagnostics;
using System.Text;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// A redis-server of a test's own on a free loopback port, started by deploy/redis/start.sh, so with the
/// platform's own settings (deploy/redis/paas-redis.conf) unless the test overrides one. The shared Redis
/// is never stopped. A missing redis-server fails the test (deploy/setup.sh installs it), never skips it.
/// </summary>
internal sealed class RedisServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private RedisServerProcess(Process process, int port, string dir)
    {
        _process = process;
        Port = port;
        Dir = dir;
    }

    public int Port { get; }

    public string Dir { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>A data Redis: start.sh PORT DIR, then <paramref name="options"/> (redis-server options that win over the file).</summary>
    public static Task<RedisServerProcess> StartAsync(int port, string dir, params string[] options) =>
        StartWithEnvironmentAsync(port, dir, new Dictionary<string, string>(), options);

    /// <summary>As <see cref="StartAsync"/>, with variables start.sh reads (PAAS_REDIS_BIND).</summary>
    public static Task<RedisServerProcess> StartWithEnvironmentAsync(int port, string dir, IReadOnlyDictionary<string, string> environment, params string[] options) =>
        LaunchAsync(Path.Combine(RepoRoot(), "deploy", "redis", "start.sh"), [port.ToString(), dir, .. options], port, dir, environment);

    /// <summary>A sentinel watching the primary at <paramref name="primaryPort"/> under the name <paramref name="service"/>.</summary>
    public static Task<RedisServerProcess> StartSentinelAsync(int port, string dir, string service, int primaryPort, int quorum)
    {
        Directory.CreateDirectory(dir);
        // Sentinel rewrites its file as it learns the topology, so each has one of its own.
        var conf = Path.Combine(dir, "sentinel.conf");
        File.WriteAllText(conf, $"""
            port {port}
            bind 127.0.0.1
            dir {dir}
            sentinel monitor {service} 127.0.0.1 {primaryPort} {quorum}
            sentinel down-after-milliseconds {service} 1000
            sentinel failover-timeout {service} 10000
            sentinel parallel-syncs {service} 1

            """);
        return LaunchAsync("redis-server", [conf, "--sentinel"], port, dir);
    }

    private static async Task<RedisServerProcess> LaunchAsync(string file, string[] arguments, int port, string dir, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var redis = new RedisServerProcess(process, port, dir);
        process.OutputDataReceived += (_, e) => redis.Append(e.Data);
        process.ErrorDataReceived += (_, e) => redis.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{redis.Output}");
            }

            if (await AnswersPingAsync(port))
            {
                return redis;
            }

            await Task.Delay(100);
        }

        await redis.DisposeAsync();
        throw new TimeoutException($"{file} on port {port} did not answer within 15 s:\n{redis.Output}");
    }

    // A bare PING over TCP: the same for a data Redis and a sentinel, and "-NOAUTH" counts as alive too.
    private static async Task<bool> AnswersPingAsync(int port) => await PingAsync(System.Net.IPAddress.Loopback, port) is not null;

    /// <summary>
    /// A bare PING without a password to <paramref name="address"/>:<paramref name="port"/>: Redis's first reply
    /// line ("+PONG", "-NOAUTH …"), or null when nothing answers there.
    /// </summary>
    public static async Task<string?> PingAsync(System.Net.IPAddress address, int port)
    {
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(address, port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
            var buffer = new byte[64];
            var read = await stream.ReadAsync(buffer, timeout.Token);
            var reply = Encoding.ASCII.GetString(buffer, 0, read).Split('\r')[0];
            return reply.StartsWith('+') || reply.StartsWith("-NOAUTH") ? reply : null;
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>kill -9: no shutdown, no last write to disk; what survives is what was already there.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Paas.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Paas.sln not found above " + AppContext.BaseDirectory);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
