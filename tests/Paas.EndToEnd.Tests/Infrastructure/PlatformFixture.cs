using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;
using StackExchange.Redis;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A whole platform for the tests: the real router and controller processes on free loopback ports, with
/// their own data directory and Redis key prefix, so they never collide with `make run` or each other.
/// Everything they create (containers, images, keys, files) is removed at the end.
/// </summary>
public partial class PlatformFixture : IAsyncLifetime
{
    public const string StackImage = "paas/stack:latest";
    /// <summary>The host's Redis: PAAS_REDIS as `make test` sets it (with setup's password), else the default.</summary>
    public static string Redis { get; } =
        Environment.GetEnvironmentVariable("PAAS_REDIS") is { Length: > 0 } value ? value : "127.0.0.1:6379";

    /// <summary>The Redis this platform's processes use (a subclass may give them one that other hosts reach).</summary>
    protected virtual string RedisConfiguration => Redis;

    /// <summary>Controller settings a subclass adds (a registry, say).</summary>
    protected virtual IReadOnlyDictionary<string, string> ControllerSettings => new Dictionary<string, string>();

    /// <summary>Runs before anything else starts: what the platform's processes need (networks, registries).</summary>
    protected virtual Task StartInfrastructureAsync() => Task.CompletedTask;

    /// <summary>The cells: by default three agents on the local engine (<see cref="CellLayout"/>).</summary>
    protected virtual async Task StartCellsAsync()
    {
        foreach (var cell in CellLayout)
            await StartCellAsync(cell.Name);
        await WaitForCellsAsync(CellLayout.Count);
    }

    private PlatformProcess? _router;
    private PlatformProcess? _controller;
    private readonly Dictionary<string, PlatformProcess> _cells = new();

    /// <summary>
    /// Three cell agents on the local engine, in different zones, with different capacities. The capacities
    /// are what placement may reserve, not what the apps use: large enough for every app the whole suite
    /// deploys and leaves running, so no test is refused room because of the tests before it. Spread placement
    /// puts about as many instances on each cell, so the smallest fills first: at 8 GB it held 16 of 512 MB, and
    /// once the suite left more than that, a scale to 10 found only two cells with room (seen in a full run).
    /// </summary>
    public static readonly IReadOnlyList<(string Name, string Zone, int MemoryMb)> CellLayout =
    [
        ("cell-a", "zone-1", 24576),
        ("cell-b", "zone-2", 24576),
        ("cell-c", "zone-3", 16384),
    ];
    private Dictionary<string, string> _controllerEnvironment = new();

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "paas-e2e-" + Guid.NewGuid().ToString("N")[..8]);
    public string RedisPrefix { get; } = "e2e-" + Guid.NewGuid().ToString("N")[..8] + ":";
    public int ApiPort { get; } = FreePort.Next();
    /// <summary>The controller's HTTPS port (API and git), with the platform certificate <see cref="CertificateFile"/> for localhost.</summary>
    public int ApiTlsPort { get; } = FreePort.Next();
    /// <summary>The controller's rendezvous port, where `heroku run` attaches over TLS.</summary>
    public int RendezvousPort { get; } = FreePort.Next();
    public string CertificateFile => Path.Combine(DataDirectory, "certs", "localhost.crt");
    public int RouterPort { get; } = FreePort.Next();
    public int RouterAdminPort { get; } = FreePort.Next();
    /// <summary>The router's HTTPS port: the platform certificate, and custom domains' certificates by SNI.</summary>
    public int RouterTlsPort { get; } = FreePort.Next();
    public string ApiUrl => $"http://127.0.0.1:{ApiPort}";
    public string PlatformId { get; private set; } = "";
    /// <summary>HOME for git and the CLI: an empty one, so the machine's global git config cannot interfere.</summary>
    public string Home => Path.Combine(DataDirectory, "home");
    public HttpClient Http { get; } = new(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.FromSeconds(1) }) { Timeout = TimeSpan.FromSeconds(10) };

    public async Task InitializeAsync()
    {
        await StartInfrastructureAsync();
        await Requirements.EnsureAsync(RedisConfiguration, StackImage);
        Directory.CreateDirectory(Home);
        // The certificate set-up makes for a platform, here in the test's own data directory.
        var cert = await ProcessRunner.RunAsync("bash", [Path.Combine(RepoPaths.Root, "deploy", "tls", "make-cert.sh"), Path.GetDirectoryName(CertificateFile)!, "localhost"],
            null, new Dictionary<string, string>(), TimeSpan.FromMinutes(1));
        if (cert.ExitCode != 0)
            throw new InvalidOperationException($"deploy/tls/make-cert.sh failed: {cert}");
        _router = new PlatformProcess(RepoPaths.Dll("router/Paas.Router", "Paas.Router"), new Dictionary<string, string>
        {
            ["PAAS_ROUTER_PORT"] = RouterPort.ToString(),
            ["PAAS_ROUTER_BIND"] = "127.0.0.1",
            ["PAAS_ROUTER_ADMIN_PORT"] = RouterAdminPort.ToString(),
            ["PAAS_REDIS"] = RedisConfiguration,
            ["PAAS_REDIS_PREFIX"] = RedisPrefix,
            // A TLS port of its own (with the platform certificate below), and no per-request log lines kept in memory.
            ["PAAS_ROUTER_TLS_PORT"] = RouterTlsPort.ToString(),
            ["PAAS_ROUTER_CERTS_DIR"] = Path.GetDirectoryName(CertificateFile)!,
            ["PAAS_ROUTER_ACCESS_LOG"] = "off",
            // Metrics reach the history within seconds rather than the default 10 (MetricsTests waits for them).
            ["PAAS_METRICS_INTERVAL_SECONDS"] = "2",
        });
        await _router.WaitReadyAsync($"http://127.0.0.1:{RouterAdminPort}/healthz", TimeSpan.FromSeconds(30));
        _controllerEnvironment = new Dictionary<string, string>
        {
            ["PAAS_DATA_DIR"] = DataDirectory,
            ["PAAS_API_PORT"] = ApiPort.ToString(),
            ["PAAS_API_BIND"] = "127.0.0.1",
            ["PAAS_API_URL"] = ApiUrl,
            ["PAAS_API_TLS_PORT"] = ApiTlsPort.ToString(),
            // `heroku run` attaches there, by the name the platform certificate carries.
            ["PAAS_RENDEZVOUS_PORT"] = RendezvousPort.ToString(),
            ["PAAS_RENDEZVOUS_HOST"] = "localhost",
            ["PAAS_ROUTER_PORT"] = RouterPort.ToString(),
            ["PAAS_REDIS"] = RedisConfiguration,
            ["PAAS_REDIS_PREFIX"] = RedisPrefix,
            ["PAAS_BUILDPACKS_DIR"] = Path.Combine(RepoPaths.Root, "buildpacks"),
            ["PAAS_HEALTH_TIMEOUT_SECONDS"] = "15",
            ["PAAS_CELL_LOST_SECONDS"] = "5",
            ["PAAS_CONVERGE_SECONDS"] = "2",
            // The suite's cases that heal what no event announced (a flushed routes hash, an instance removed
            // behind the platform's back) were written for a full pass every 2 s; the incremental pass is proven
            // by the simulation (IncrementalPass_* in tests/Paas.Controller.Tests/Simulation).
            ["PAAS_FULL_CONVERGE_SECONDS"] = "2",
            ["PAAS_DRAIN_MS"] = "300",
            ["PAAS_METRICS_INTERVAL_SECONDS"] = "2",
        };
        foreach (var (name, value) in ControllerSettings)
            _controllerEnvironment[name] = value;
        await StartControllerAsync();
        await StartCellsAsync();
    }

    public virtual async Task StartCellAsync(string name)
    {
        var layout = CellLayout.Single(c => c.Name == name);
        var port = FreePort.Next();
        var cell = new PlatformProcess(RepoPaths.Dll("src/Paas.Cell", "Paas.Cell"), new Dictionary<string, string>
        {
            ["PAAS_CELL_NAME"] = name,
            ["PAAS_CELL_ZONE"] = layout.Zone,
            ["PAAS_CELL_MEMORY_MB"] = layout.MemoryMb.ToString(),
            // CPU room matching the memory (1024 shares per GB), so memory stays the limit the capacity tests meet.
            ["PAAS_CELL_CPU_SHARES"] = layout.MemoryMb.ToString(),
            ["PAAS_CELL_PORT"] = port.ToString(),
            // Each instance its own top-level cgroup, as deploy/run.sh sets on a cgroupfs engine, where all would share
            // /docker and a busy one shrink its neighbours' CPU weight (see CpuTests).
            ["PAAS_CELL_CGROUP_PARENT"] = System.IO.Directory.Exists("/sys/fs/cgroup/cpu/docker") ? "/" : "",
            ["PAAS_CELL_HEARTBEAT_MS"] = "500",
            ["PAAS_CELL_LOST_SECONDS"] = "5",
            ["PAAS_METRICS_INTERVAL_SECONDS"] = "2",
            ["PAAS_DATA_DIR"] = DataDirectory,
            ["PAAS_REDIS"] = RedisConfiguration,
            ["PAAS_REDIS_PREFIX"] = RedisPrefix,
        });
        _cells[name] = cell;
        await cell.WaitReadyAsync($"http://127.0.0.1:{port}/healthz", TimeSpan.FromSeconds(30));
    }

    /// <summary>Kills a cell agent as a lost host would vanish (its containers are the caller's business).</summary>
    public virtual void KillCell(string name)
    {
        if (_cells.Remove(name, out var cell))
            cell.Kill();
    }

    /// <summary>Live cells a subclass runs besides those its tests count (a staging cell, say): <see cref="WaitForCellsAsync"/> waits for them too.</summary>
    protected virtual int ExtraCells => 0;

    /// <summary>Waits until the controller sees this many live cells (and the <see cref="ExtraCells"/>).</summary>
    public async Task WaitForCellsAsync(int count)
    {
        count += ExtraCells;
        for (var i = 0; i < 200; i++)
        {
            var cells = await PaasAsync(null, "cells", "--json");
            if (cells.ExitCode == 0 && System.Text.RegularExpressions.Regex.Matches(cells.Stdout, "\"state\": \"live\"").Count >= count)
                return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{count} cells did not register.");
    }

    /// <summary>Starts the controller; <paramref name="overrides"/> replace settings for this run only (e.g. a short staging limit).</summary>
    public async Task StartControllerAsync(IReadOnlyDictionary<string, string>? overrides = null)
    {
        var environment = new Dictionary<string, string>(_controllerEnvironment);
        foreach (var (name, value) in overrides ?? new Dictionary<string, string>())
            environment[name] = value;
        _controller = new PlatformProcess(RepoPaths.Dll("src/Paas.Controller", "Paas.Controller"), environment);
        await _controller.WaitReadyAsync($"{ApiUrl}/healthz", TimeSpan.FromSeconds(30));
        PlatformId = PlatformIdPattern().Match(_controller.Output) is { Success: true } m ? m.Groups[1].Value : PlatformId;
    }

    /// <summary>Stops the controller as Ctrl-C would; app containers must keep running.</summary>
    public void StopController()
    {
        _controller?.Dispose();
        _controller = null;
    }

    /// <summary>SIGKILLs the controller, as a crash or power loss would: no shutdown code runs.</summary>
    public void KillController()
    {
        _controller?.Kill();
        _controller = null;
    }

    /// <summary>The settings the controller was started with (a second controller starts from a copy).</summary>
    public IReadOnlyDictionary<string, string> ControllerEnvironment => _controllerEnvironment;

    public string ControllerOutput => _controller?.Output ?? "";

    [GeneratedRegex(@"Paas controller (\w+) is serving")]
    private static partial Regex PlatformIdPattern();

    /// <summary>Environment for the CLI and git: the platform's URL, its data directory (where the admin token is), a clean HOME.</summary>
    public Dictionary<string, string> ClientEnvironment() => new()
    {
        ["PAAS_API_URL"] = ApiUrl,
        ["PAAS_DATA_DIR"] = DataDirectory,
        ["HOME"] = Home,
        ["XDG_CONFIG_HOME"] = Path.Combine(Home, ".config"),
        ["GIT_TERMINAL_PROMPT"] = "0",
        ["GIT_CONFIG_NOSYSTEM"] = "1",
        ["PAAS_TOKEN"] = "",
    };

    public Task<ProcessResult> PaasAsync(string? workingDirectory, params string[] args) =>
        ProcessRunner.RunAsync("dotnet", [RepoPaths.Dll("src/Paas.Cli", "paas"), .. args], workingDirectory, ClientEnvironment(), TimeSpan.FromMinutes(2));

    /// <summary>`paas` with <paramref name="stdin"/> on its standard input (a secret read with --password-stdin, never on the command line).</summary>
    public Task<ProcessResult> PaasWithInputAsync(string? workingDirectory, string stdin, params string[] args) =>
        ProcessRunner.RunAsync("dotnet", [RepoPaths.Dll("src/Paas.Cli", "paas"), .. args], workingDirectory, ClientEnvironment(), TimeSpan.FromMinutes(2), stdin);

    public Task<ProcessResult> GitAsync(string workingDirectory, params string[] args) =>
        ProcessRunner.RunAsync("git", args, workingDirectory, ClientEnvironment(), TimeSpan.FromMinutes(10));

    /// <summary>A new ordinary user (role user), made by the operator; the identity acts with their first token.</summary>
    public async Task<ClientIdentity> NewUserAsync(string stem)
    {
        var name = $"{stem}-{Guid.NewGuid().ToString("N")[..6]}";
        var created = AppUnderTest.Must(await PaasAsync(null, "users:create", name, "--json"));
        var token = System.Text.Json.JsonDocument.Parse(created.Stdout).RootElement.GetProperty("token").GetString()!;
        return new ClientIdentity(token);
    }

    /// <summary>The CLI as another user: their token in PAAS_TOKEN, and their own HOME when given (for `paas login`).</summary>
    public Task<ProcessResult> PaasAsAsync(ClientIdentity who, string? workingDirectory, params string[] args) =>
        ProcessRunner.RunAsync("dotnet", [RepoPaths.Dll("src/Paas.Cli", "paas"), .. args], workingDirectory, who.Apply(ClientEnvironment()), TimeSpan.FromMinutes(2));

    /// <summary>git as another user: the `paas` credential helper hands git their token.</summary>
    public Task<ProcessResult> GitAsAsync(ClientIdentity who, string workingDirectory, params string[] args) =>
        ProcessRunner.RunAsync("git", args, workingDirectory, who.Apply(ClientEnvironment()), TimeSpan.FromMinutes(10));

    /// <summary>A fresh git work tree holding a copy of a fixture app, committed on main.</summary>
    public async Task<string> NewWorkTreeAsync(string fixture)
    {
        var dir = Path.Combine(DataDirectory, "work", fixture + "-" + Guid.NewGuid().ToString("N")[..6]);
        CopyDirectory(RepoPaths.Fixture(fixture), dir);
        await MustAsync(GitAsync(dir, "init", "-q", "-b", "main"));
        await MustAsync(GitAsync(dir, "-c", "user.name=Test", "-c", "user.email=test@example.com", "add", "-A"));
        await MustAsync(GitAsync(dir, "-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "initial"));
        return dir;
    }

    /// <summary>A fixture buildpack (tests/fixtures/buildpacks/NAME) as a fresh git repository, for a <c>file://</c> buildpack URL.</summary>
    public async Task<string> BuildpackRepoAsync(string buildpack)
    {
        var dir = Path.Combine(DataDirectory, "buildpack-repos", buildpack + "-" + Guid.NewGuid().ToString("N")[..6]);
        CopyDirectory(Path.Combine(RepoPaths.Root, "tests", "fixtures", "buildpacks", buildpack), dir);
        await MustAsync(GitAsync(dir, "init", "-q", "-b", "main"));
        await CommitAllAsync(dir, "buildpack");
        return dir;
    }

    public async Task CommitAllAsync(string workTree, string message)
    {
        await MustAsync(GitAsync(workTree, "add", "-A"));
        await MustAsync(GitAsync(workTree, "-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", message));
    }

    /// <summary>A GET through the router, to 127.0.0.1 with the app's Host header (glibc here does not resolve *.localhost).</summary>
    public async Task<HttpResponseMessage> GetThroughRouterAsync(string host, string path = "/")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{RouterPort}{path}");
        request.Headers.Host = host;
        return await Http.SendAsync(request);
    }

    public static string AppHost(string app) => $"{app}.localhost";

    public static string UniqueAppName(string stem) => $"{stem}-{Guid.NewGuid().ToString("N")[..6]}";

    private static async Task MustAsync(Task<ProcessResult> run)
    {
        var result = await run;
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"Command failed: {result}");
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public virtual async Task DisposeAsync()
    {
        foreach (var cell in _cells.Values)
            cell.Dispose();
        StopController();
        _router?.Dispose();
        await RemoveDockerLeftoversAsync();
        await RemoveRedisKeysAsync();
        Http.Dispose();
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

    /// <summary>When the container's process last started: a restart changes it, while the container id stays.</summary>
    public async Task<string> StartedAtAsync(string containerId)
    {
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        return (await docker.Containers.InspectContainerAsync(containerId)).State.StartedAt;
    }

    public async Task<IList<ContainerListResponse>> ContainersAsync(string app)
    {
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        return await docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"paas.platform={PlatformId}"] = true, [$"paas.app={app}"] = true },
            },
        });
    }

    private async Task RemoveDockerLeftoversAsync()
    {
        if (PlatformId.Length == 0)
            return;
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        var containers = await docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"paas.platform={PlatformId}"] = true } },
        });
        foreach (var c in containers)
            await docker.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true });
        // Add-on servers' volumes, and the firewall rule each opened on the isolated network.
        var volumes = await docker.Volumes.ListAsync(new VolumesListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"paas.platform={PlatformId}"] = true } },
        });
        foreach (var volume in volumes.Volumes ?? [])
        {
            try
            {
                await docker.Volumes.RemoveAsync(volume.Name, force: true);
            }
            catch (DockerApiException)
            {
            }
        }
        foreach (var id in containers.Select(c => c.Labels.TryGetValue("paas.addon", out var addon) ? addon : null).OfType<string>())
        {
            var listing = await ProcessRunner.RunAsync("iptables", ["-w", "-L", "DOCKER-USER", "-n", "--line-numbers"], null, new Dictionary<string, string>(), TimeSpan.FromSeconds(10));
            foreach (var number in listing.Stdout.Split('\n').Where(l => l.Contains($"/* paas addon {id} */")).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]).Reverse())
                await ProcessRunner.RunAsync("iptables", ["-w", "-D", "DOCKER-USER", number], null, new Dictionary<string, string>(), TimeSpan.FromSeconds(10));
        }
        var images = await docker.Images.ListImagesAsync(new ImagesListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"paas.platform={PlatformId}"] = true } },
        });
        foreach (var image in images)
        {
            try
            {
                await docker.Images.DeleteImageAsync(image.ID, new ImageDeleteParameters { Force = true });
            }
            catch (DockerApiException)
            {
            }
        }
    }

    private async Task RemoveRedisKeysAsync()
    {
        using var redis = await ConnectionMultiplexer.ConnectAsync(RedisConfiguration);
        var server = redis.GetServers()[0];
        await foreach (var key in server.KeysAsync(pattern: RedisPrefix + "*"))
            await redis.GetDatabase().KeyDeleteAsync(key);
    }
}
