using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// The real router, run as its own process exactly as it would be deployed (dotnet Paas.Router.dll),
/// on free loopback ports.
/// </summary>
public sealed class RouterProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private RouterProcess(Process process, int publicPort, int adminPort)
    {
        _process = process;
        PublicPort = publicPort;
        AdminPort = adminPort;
    }

    public int PublicPort { get; }

    public int AdminPort { get; }

    public int ProcessId => _process.Id;

    public Uri PublicUrl => new($"http://127.0.0.1:{PublicPort}/");

    public Uri AdminUrl => new($"http://127.0.0.1:{AdminPort}/");

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

    /// <param name="waitUntilHealthy">false returns as soon as the process is started, for tests of start-up itself.</param>
    public static async Task<RouterProcess> StartAsync(string redis, string prefix, IReadOnlyDictionary<string, string>? environment = null,
        bool waitUntilHealthy = true)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Paas.Router.dll");
        if (!File.Exists(dll) || !File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")))
        {
            throw new InvalidOperationException($"Built router not found next to the tests at {dll}.");
        }

        var publicPort = FreePort();
        var adminPort = FreePort();
        while (adminPort == publicPort)
        {
            adminPort = FreePort();
        }

        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(dll);
        start.Environment["PAAS_ROUTER_PORT"] = publicPort.ToString();
        start.Environment["PAAS_ROUTER_ADMIN_PORT"] = adminPort.ToString();
        start.Environment["PAAS_ROUTER_BIND"] = "127.0.0.1";
        start.Environment["PAAS_REDIS"] = redis;
        start.Environment["PAAS_REDIS_PREFIX"] = prefix;
        // No TLS unless a test asks for it: the default port (8443) and certificate directory
        // (/var/lib/paas/certs) belong to the machine, and routers of tests running in parallel would
        // race each other (and a platform router) for that port once set-up has put certificates there.
        start.Environment["PAAS_ROUTER_TLS_PORT"] = "0";
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment.Remove("ASPNETCORE_HTTP_PORTS");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start };
        var router = new RouterProcess(process, publicPort, adminPort);
        process.OutputDataReceived += (_, e) => router.Append("out", e.Data);
        process.ErrorDataReceived += (_, e) => router.Append("err", e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        if (!waitUntilHealthy)
        {
            return router;
        }

        try
        {
            await router.WaitUntilHealthyAsync(TimeSpan.FromSeconds(30));
        }
        catch
        {
            await router.DisposeAsync();
            throw;
        }

        return router;
    }

    private async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Router exited with code {_process.ExitCode} during start-up:\n{Output}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri(AdminUrl, "healthz"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Router did not become healthy within {timeout}:\n{Output}");
    }

    private void Append(string stream, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Append(stream).Append(": ").AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (Exception) when (_process.HasExited)
        {
        }
        finally
        {
            _process.Dispose();
        }
    }

    public static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    public static int FreePort() => Paas.Testing.TestPorts.Next();
}
