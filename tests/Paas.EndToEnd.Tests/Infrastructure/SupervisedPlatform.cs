using System.Diagnostics;
using StackExchange.Redis;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The platform as `make run` starts it: the real deploy/run.sh, supervising the registry, router, cell agent
/// and controller, on free loopback ports with its own data directory, Redis prefix and cell name, so it
/// never meets `make run` or <see cref="PlatformFixture"/>. Its processes are found in /proc (below the
/// supervisor, or by the unique Redis prefix in their environment), and every one of them is gone
/// after <see cref="DisposeAsync"/>, whatever the test did to the supervisor.
/// </summary>
public sealed class SupervisedPlatform : IAsyncLifetime
{
    /// <summary>Each supervised child, by what its command line contains (the registry is Debian's server, the others our dlls).</summary>
    public static readonly IReadOnlyDictionary<string, string> Dlls = new Dictionary<string, string>
    {
        ["registry"] = "docker-registry serve",
        ["router"] = "Paas.Router.dll",
        ["cell"] = "Paas.Cell.dll",
        ["controller"] = "Paas.Controller.dll",
    };

    private Process? _supervisor;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "paas-supervised-" + Guid.NewGuid().ToString("N")[..8]);
    public string RedisPrefix { get; } = "e2e-sup-" + Guid.NewGuid().ToString("N")[..8] + ":";
    public string CellName { get; } = "sup-" + Guid.NewGuid().ToString("N")[..6];
    public int RouterPort { get; } = FreePort.Next();
    public int RouterAdminPort { get; } = FreePort.Next();
    public int ApiPort { get; } = FreePort.Next();
    public int CellPort { get; } = FreePort.Next();
    public int RegistryPort { get; } = FreePort.Next();
    public string ApiUrl => $"http://127.0.0.1:{ApiPort}";
    public HttpClient Http { get; } = new(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(1) };
    public int SupervisorPid => _supervisor?.Id ?? throw new InvalidOperationException("not started");
    public bool SupervisorHasExited => _supervisor?.HasExited ?? true;

    public string HealthUrl(string name) => name switch
    {
        // The registry's root answers 200 without credentials once it serves.
        "registry" => $"http://127.0.0.1:{RegistryPort}/",
        "router" => $"http://127.0.0.1:{RouterAdminPort}/healthz",
        "cell" => $"http://127.0.0.1:{CellPort}/healthz",
        "controller" => $"{ApiUrl}/healthz",
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    public async Task InitializeAsync()
    {
        await Requirements.EnsureAsync(PlatformFixture.Redis, PlatformFixture.StackImage);
        Directory.CreateDirectory(DataDirectory);
        // Output to a file, not to pipes: children that outlive a broken supervisor would hold pipes open.
        var start = new ProcessStartInfo("bash") { UseShellExecute = false };
        foreach (var arg in new[] { "-c", "exec \"$0\" >>\"$1\" 2>&1 </dev/null", Path.Combine(RepoPaths.Root, "deploy", "run.sh"), OutputFile })
            start.ArgumentList.Add(arg);
        foreach (var (name, value) in Environment())
            start.Environment[name] = value;
        _supervisor = Process.Start(start)!;
        foreach (var name in Dlls.Keys)
            await WaitHealthyAsync(name, TimeSpan.FromSeconds(60));
    }

    private string OutputFile => Path.Combine(DataDirectory, "supervisor.out");

    private Dictionary<string, string> Environment() => new()
    {
        ["CONFIGURATION"] = RepoPaths.Configuration,
        ["PAAS_DATA_DIR"] = DataDirectory,
        ["PAAS_REDIS"] = PlatformFixture.Redis,
        ["PAAS_REDIS_PREFIX"] = RedisPrefix,
        ["PAAS_ROUTER_PORT"] = RouterPort.ToString(),
        ["PAAS_ROUTER_BIND"] = "127.0.0.1",
        ["PAAS_ROUTER_ADMIN_PORT"] = RouterAdminPort.ToString(),
        ["PAAS_ROUTER_TLS_PORT"] = "0",
        ["PAAS_ROUTER_ACCESS_LOG"] = "off",
        ["PAAS_API_PORT"] = ApiPort.ToString(),
        ["PAAS_API_BIND"] = "127.0.0.1",
        ["PAAS_API_URL"] = ApiUrl,
        ["PAAS_API_TLS_PORT"] = "0",
        ["PAAS_CELL_NAME"] = CellName,
        ["PAAS_CELL_PORT"] = CellPort.ToString(),
        ["PAAS_REGISTRY_PORT"] = RegistryPort.ToString(),
    };

    /// <summary>The running process of a child (router, cell, controller) below the supervisor, if there is one.</summary>
    public int? ChildPid(string name) =>
        ProcessTable.Descendants(SupervisorPid).Where(ProcessTable.IsRunning)
            .Where(pid => ProcessTable.CommandLine(pid).Contains(Dlls[name], StringComparison.Ordinal))
            .Select(pid => (int?)pid).FirstOrDefault();

    /// <summary>Everything this platform runs, found by its Redis prefix: the supervisor's subshells, the children, their helpers.</summary>
    public IReadOnlyList<int> AllProcesses() => ProcessTable.WithEnvironment("PAAS_REDIS_PREFIX", RedisPrefix);

    public async Task<bool> IsHealthyAsync(string name)
    {
        try
        {
            using var response = await Http.GetAsync(HealthUrl(name));
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException)
        {
            return false;
        }
    }

    public async Task WaitHealthyAsync(string name, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!await IsHealthyAsync(name))
        {
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"{name} did not answer {HealthUrl(name)} within {timeout.TotalSeconds} s.\n{Diagnostics()}");
            if (SupervisorHasExited)
                throw new InvalidOperationException($"The supervisor exited before {name} was healthy.\n{Diagnostics()}");
            await Task.Delay(50);
        }
    }

    public static void Signal(int pid, string signal) => Process.Start("kill", [$"-{signal}", pid.ToString()])!.WaitForExit();

    /// <summary>Waits (bounded) for the supervisor to exit; true when it did.</summary>
    public bool WaitForSupervisorExit(TimeSpan timeout) => _supervisor is null || _supervisor.WaitForExit(timeout);

    /// <summary>The supervisor's terminal output and the end of each process's log, for failure messages.</summary>
    public string Diagnostics()
    {
        var text = new System.Text.StringBuilder();
        foreach (var file in new[] { OutputFile }.Concat(Dlls.Keys.Select(n => Path.Combine(DataDirectory, "logs", n + ".log"))))
        {
            if (!File.Exists(file))
                continue;
            var lines = File.ReadAllLines(file);
            text.AppendLine($"--- {Path.GetFileName(file)} (last 30 lines)");
            foreach (var line in lines.TakeLast(30))
                text.AppendLine(line.Length > 300 ? line[..300] + "..." : line);
        }
        return text.ToString();
    }

    public async Task DisposeAsync()
    {
        if (_supervisor is { HasExited: false })
        {
            Signal(_supervisor.Id, "TERM");
            if (!_supervisor.WaitForExit(TimeSpan.FromSeconds(15)))
                _supervisor.Kill(entireProcessTree: true);
        }
        // Whatever outlived the supervisor (a test that failed half-way, a supervisor that left strays).
        foreach (var pid in AllProcesses())
        {
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (ArgumentException)
            {
            }
            catch (InvalidOperationException)
            {
            }
        }
        _supervisor?.Dispose();
        Http.Dispose();
        using (var redis = await ConnectionMultiplexer.ConnectAsync(PlatformFixture.Redis))
        {
            await foreach (var key in redis.GetServers()[0].KeysAsync(pattern: RedisPrefix + "*"))
                await redis.GetDatabase().KeyDeleteAsync(key);
        }
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
