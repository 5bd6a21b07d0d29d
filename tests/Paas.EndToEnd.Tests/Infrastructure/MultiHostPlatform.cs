using Docker.DotNet.Models;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A platform across hosts, with real parts only: the controller and router on the main host, three cell
/// hosts (network namespaces on one bridge, each with its own dockerd, see <see cref="TestHost"/>), a
/// Docker Distribution registry with credentials, and a Redis with a password the hosts reach at the bridge's gateway.
/// Release images leave the builder's engine only through the registry: the staging cell <see cref="StagingCell"/>
/// (an agent on the main host's engine that takes no instances: 1 MB of memory to place in) pushes at 127.0.0.1,
/// the hosts pull the same digest at the gateway. A test may pin staging to a host's cell instead
/// (PAAS_STAGING_CELL, after <see cref="LoadStackAsync"/>).
/// </summary>
public sealed class MultiHostPlatform : PlatformFixture
{
    public static readonly IReadOnlyList<(string Name, string Zone)> HostLayout = [("h1", "zone-1"), ("h2", "zone-2"), ("h3", "zone-3")];

    public const int CellPort = 8091;
    /// <summary>The cell on the main host's engine that stages, runs release phases and one-offs (PAAS_STAGING_CELL).</summary>
    public const string StagingCell = "builder";
    private PlatformProcess? _builder;
    private readonly Dictionary<string, TestHost> _hosts = new();
    private readonly Dictionary<string, PlatformProcess> _agents = new();
    private TestNetwork? _network;
    private ImageRegistry? _registry;
    private RedisServer? _redis;

    public ImageRegistry Registry => _registry ?? throw new InvalidOperationException("not started");

    public TestHost Host(string name) => _hosts[name];

    public TestNetwork Network => _network ?? throw new InvalidOperationException("not started");

    public RedisServer RedisServer => _redis ?? throw new InvalidOperationException("not started");

    /// <summary>Every component's PAAS_REDIS: the Redis at the gateway, with its password.</summary>
    protected override string RedisConfiguration => RedisServer.Configuration;

    /// <summary>The secret the controller presents to cell agents (PAAS_CELL_SECRET), made by the controller at its first start.</summary>
    public async Task<string> CellSecretAsync() => (await File.ReadAllTextAsync(Path.Combine(DataDirectory, "cell-secret"))).Trim();

    protected override IReadOnlyDictionary<string, string> ControllerSettings => new Dictionary<string, string>
    {
        ["PAAS_REGISTRY"] = Registry.LoopbackAddress,
        ["PAAS_STAGING_CELL"] = StagingCell,
        ["PAAS_CELL_LOST_SECONDS"] = "3",
        // Two, so that a third deploy prunes the first (MultiHostTests.Hygiene.cs); no test here rolls back further.
        ["PAAS_KEEP_RELEASES"] = "2",
        ["PAAS_REGISTRY_USERNAME"] = ImageRegistry.Username,
        ["PAAS_REGISTRY_PASSWORD"] = Registry.Credentials.Password,
    };

    protected override async Task StartInfrastructureAsync()
    {
        _network = await TestNetwork.CreateAsync();
        _registry = await ImageRegistry.StartAsync(_network.Gateway);
        _redis = await RedisServer.StartAsync(_network.Gateway);
        foreach (var (name, _) in HostLayout)
            _hosts[name] = await _network.AddHostAsync(_registry.Address);
    }

    protected override int ExtraCells => 1;

    protected override async Task StartCellsAsync()
    {
        var port = FreePort.Next();
        _builder = new PlatformProcess(RepoPaths.Dll("src/Paas.Cell", "Paas.Cell"), new Dictionary<string, string>
        {
            ["PAAS_CELL_NAME"] = StagingCell,
            ["PAAS_CELL_ZONE"] = "zone-0",
            // Nothing fits: instances go to the hosts, as the tests expect; staging comes here by PAAS_STAGING_CELL.
            ["PAAS_CELL_MEMORY_MB"] = "1",
            ["PAAS_CELL_PORT"] = port.ToString(),
            ["PAAS_CELL_HEARTBEAT_MS"] = "500",
            ["PAAS_CELL_LOST_SECONDS"] = "3",
            ["PAAS_CELL_SECRET"] = await CellSecretAsync(),
            ["PAAS_DATA_DIR"] = DataDirectory,
            ["PAAS_REDIS"] = RedisConfiguration,
            ["PAAS_REDIS_PREFIX"] = RedisPrefix,
            ["PAAS_REGISTRY"] = Registry.LoopbackAddress,
            ["PAAS_REGISTRY_USERNAME"] = ImageRegistry.Username,
            ["PAAS_REGISTRY_PASSWORD"] = Registry.Credentials.Password,
        });
        await _builder.WaitReadyAsync($"http://127.0.0.1:{port}/healthz", TimeSpan.FromSeconds(30));
        foreach (var (name, _) in HostLayout)
            await StartCellAsync(name);
        await WaitForCellsAsync(HostLayout.Count);
    }

    /// <summary>
    /// Puts the stack image on host <paramref name="name"/>'s engine, as a host that stages needs it: pushed from the
    /// main engine to the registry, pulled there by digest and tagged as the platform names it.
    /// </summary>
    public async Task LoadStackAsync(string name)
    {
        using var main = new Docker.DotNet.DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        var digest = await Registry.PushAsync(main, StackImage, "paas/stack", "latest");
        var reference = Registry.Reference("paas/stack", digest);
        await _hosts[name].PullAsync(reference, Registry.Credentials);
        var colon = StackImage.LastIndexOf(':');
        await _hosts[name].DockerClient.Images.TagImageAsync(reference, new ImageTagParameters { RepositoryName = StackImage[..colon], Tag = StackImage[(colon + 1)..] });
    }

    /// <summary>The app's images on one host's engine.</summary>
    public async Task<IList<ImagesListResponse>> ImagesOnAsync(string host, string app) =>
        await _hosts[host].DockerClient.Images.ListImagesAsync(new ImagesListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"paas.platform={PlatformId}"] = true, [$"paas.app={app}"] = true },
            },
        });

    /// <summary>Starts the cell agent of host <paramref name="name"/>, in the host's network, on the host's engine.</summary>
    public override Task StartCellAsync(string name) => StartCellAsync(name, null);

    /// <param name="overrides">Settings of this start only (PAAS_CELL_STACK_PREPULL=on: the agent pre-pulls the stack).</param>
    public async Task StartCellAsync(string name, IReadOnlyDictionary<string, string>? overrides)
    {
        var host = _hosts[name];
        var environment = new Dictionary<string, string>
        {
            ["PAAS_CELL_NAME"] = name,
            ["PAAS_CELL_ZONE"] = HostLayout.Single(h => h.Name == name).Zone,
            ["PAAS_CELL_ADDRESS"] = host.Address,
            ["PAAS_CELL_PORT"] = CellPort.ToString(),
            // What placement may reserve, not what the apps use: room for every app the tests leave running.
            ["PAAS_CELL_MEMORY_MB"] = "16384",
            ["PAAS_CELL_CPU_SHARES"] = "16384",
            ["PAAS_CELL_HEARTBEAT_MS"] = "500",
            // Shorter than the 5 s default, like the fixture's other periods: the lost-host test's 10 s goal then
            // measures the re-placement with room for a loaded CI machine (measured 8-10 s with 5 s here).
            ["PAAS_CELL_LOST_SECONDS"] = "3",
            ["PAAS_CELL_SECRET"] = await CellSecretAsync(),
            ["DOCKER_HOST"] = host.DockerEndpoint,
            ["PAAS_DATA_DIR"] = Path.Combine(DataDirectory, "hosts", name),
            ["PAAS_REDIS"] = RedisConfiguration,
            ["PAAS_REDIS_PREFIX"] = RedisPrefix,
            ["PAAS_REGISTRY"] = Registry.Address,
            ["PAAS_REGISTRY_USERNAME"] = ImageRegistry.Username,
            ["PAAS_REGISTRY_PASSWORD"] = Registry.Credentials.Password,
            // Off for the shared hosts: three pulls of the stack at every fixture start would slow every test here.
            // The pre-pull test turns it on for one start of one host.
            ["PAAS_CELL_STACK_PREPULL"] = "off",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>())
            environment[key] = value;
        var agent = host.StartDll(RepoPaths.Dll("src/Paas.Cell", "Paas.Cell"), environment);
        _agents[name] = agent;
        await agent.WaitReadyAsync($"http://{host.Address}:{CellPort}/healthz", TimeSpan.FromSeconds(60));
    }

    public override void KillCell(string name)
    {
        if (_agents.Remove(name, out var agent))
            agent.Kill();
    }

    /// <summary>
    /// Starts another router in host <paramref name="name"/>'s network, on the host's address and
    /// <paramref name="port"/>, fed by the same Redis as the main one, named <paramref name="id"/> among the
    /// routers that acknowledge route versions. Its admin port stays on the host's loopback, as by default.
    /// Stopped with the host, or earlier by the caller.
    /// </summary>
    public PlatformProcess StartRouter(string name, string id, int port) =>
        _hosts[name].StartDll(RepoPaths.Dll("router/Paas.Router", "Paas.Router"), new Dictionary<string, string>
        {
            ["PAAS_ROUTER_ID"] = id,
            ["PAAS_ROUTER_BIND"] = _hosts[name].Address,
            ["PAAS_ROUTER_PORT"] = port.ToString(),
            ["PAAS_ROUTER_ADMIN_PORT"] = (port + 1).ToString(),
            ["PAAS_ROUTER_TLS_PORT"] = "0",
            ["PAAS_ROUTER_ACCESS_LOG"] = "off",
            ["PAAS_REDIS"] = RedisConfiguration,
            ["PAAS_REDIS_PREFIX"] = RedisPrefix,
        });

    /// <summary>The app's containers on one host's engine.</summary>
    public async Task<IList<ContainerListResponse>> ContainersOnAsync(string host, string app) =>
        await _hosts[host].DockerClient.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"paas.platform={PlatformId}"] = true, [$"paas.app={app}"] = true },
            },
        });

    public override async Task DisposeAsync()
    {
        // The agents are the hosts' processes: each host stops its own.
        _agents.Clear();
        _builder?.Dispose();
        await base.DisposeAsync();
        if (_network is not null)
            await _network.DisposeAsync();
        if (_registry is not null)
            await _registry.DisposeAsync();
        if (_redis is not null)
            await _redis.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class MultiHostCollection : ICollectionFixture<MultiHostPlatform>
{
    public const string Name = "multi-host";
}
