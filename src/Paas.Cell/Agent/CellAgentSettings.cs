using Paas.Core.Configuration;

namespace Paas.Cell.Agent;

/// <summary>A cell agent's settings, each from an environment variable (see README).</summary>
public sealed record CellAgentSettings(
    string Name,
    string Zone,
    long MemoryBytes,
    int MaxInstances,
    string Bind,
    int Port,
    string AdvertisedUrl,
    string DockerEndpoint,
    string Redis,
    string RedisPrefix,
    string DataDirectory,
    TimeSpan HeartbeatInterval)
{
    /// <summary>About how many lines each app's log keeps (see <see cref="PaasSettings.LogMaxLines"/>).</summary>
    public int LogMaxLines { get; init; } = 10000;

    /// <summary>Each app's allowance of log lines per second on this cell (see <see cref="PaasSettings.LogRateLinesPerSecond"/>).</summary>
    public int LogRateLinesPerSecond { get; init; } = 500;

    /// <summary>CPU shares offered to instances (PAAS_CELL_CPU_SHARES), counted by placement as memory is (see <see cref="Paas.Core.Instances.CpuShares"/>).</summary>
    public long CpuShares { get; init; } = DefaultCpuShares;

    /// <summary>
    /// 1024 per core, overcommitted 4×: shares are weights, not caps, so an idle neighbour's share is usable;
    /// under contention each instance still gets at least a quarter of its memory-proportional entitlement.
    /// </summary>
    public static long DefaultCpuShares => Environment.ProcessorCount * Paas.Core.Instances.CpuShares.PerCore * 4;

    /// <summary>The cgroup parent of instance containers (PAAS_CELL_CGROUP_PARENT), null for the engine's default.</summary>
    public string? CgroupParent { get; init; }

    /// <summary>Where other hosts reach this cell and its instances (PAAS_CELL_ADDRESS): instance ports are published on it.</summary>
    public string Address { get; init; } = "127.0.0.1";

    /// <summary>How this cell reaches the image registry (PAAS_REGISTRY and its credentials), if there is one.</summary>
    public Paas.Core.Images.RegistryAccess? Registry { get; init; }

    /// <summary>Whether the agent pulls the stack image from the registry when it starts (PAAS_CELL_STACK_PREPULL; on with a registry).</summary>
    public bool StackPrepull { get; init; }

    /// <summary>The image staging containers run on (PAAS_STACK_IMAGE): it must be on this cell's engine for the cell to stage.</summary>
    public string StackImage { get; init; } = "paas/stack:latest";

    /// <summary>The TTL of this cell's alive key: silent this long, the cell is lost (see <see cref="Paas.Core.Routing.CellHeartbeat"/>).</summary>
    public TimeSpan LostAfter { get; init; } = Paas.Core.Routing.CellHeartbeat.DefaultLostAfter;

    /// <summary>How often instances' CPU and memory are sampled for the controller's metrics history (PAAS_METRICS_INTERVAL_SECONDS).</summary>
    public TimeSpan MetricsInterval { get; init; } = TimeSpan.FromSeconds(10);

    public static CellAgentSettings FromEnvironment(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        var env = new SettingsReader(read);
        var platform = PaasSettings.FromEnvironment(read);
        var port = env.Port("PAAS_CELL_PORT", 8091);
        var address = env.Address("PAAS_CELL_ADDRESS", "127.0.0.1").ToString();
        var bind = env.Text("PAAS_CELL_BIND", address);
        var name = env.Text("PAAS_CELL_NAME", "local");
        if (!Paas.Core.Apps.AppName.IsValid(name))
            throw SettingsReader.Invalid("PAAS_CELL_NAME", "a DNS label (lowercase letters, digits, hyphens)", name);
        var hostMemory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var heartbeat = env.Milliseconds("PAAS_CELL_HEARTBEAT_MS", TimeSpan.FromSeconds(1));
        // Two beats may be lost (a slow Redis, a GC pause) before the key expires.
        if (heartbeat * 3 > platform.CellLostAfter)
            throw SettingsReader.Invalid("PAAS_CELL_HEARTBEAT_MS", $"at most a third of PAAS_CELL_LOST_SECONDS ({platform.CellLostAfter.TotalMilliseconds:0} ms)", $"{heartbeat.TotalMilliseconds:0}");
        return new CellAgentSettings(
            Name: name,
            Zone: env.Text("PAAS_CELL_ZONE", "zone-1"),
            MemoryBytes: env.Megabytes("PAAS_CELL_MEMORY_MB", hostMemory),
            MaxInstances: env.Count("PAAS_CELL_MAX_INSTANCES", 100),
            Bind: bind,
            Port: port,
            AdvertisedUrl: env.Text("PAAS_CELL_URL", $"http://{(bind == "0.0.0.0" ? address : bind)}:{port}"),
            DockerEndpoint: platform.DockerEndpoint,
            Redis: platform.Redis,
            RedisPrefix: platform.RedisPrefix,
            DataDirectory: platform.DataDirectory,
            HeartbeatInterval: heartbeat)
        {
            CpuShares = env.Count("PAAS_CELL_CPU_SHARES", (int)DefaultCpuShares),
            CgroupParent = env.Text("PAAS_CELL_CGROUP_PARENT", "") is { Length: > 0 } parent ? parent : null,
            LostAfter = platform.CellLostAfter,
            Address = address,
            Registry = platform.Registry,
            StackPrepull = env.Switch("PAAS_CELL_STACK_PREPULL", platform.Registry is not null) && platform.Registry is not null,
            StackImage = platform.StackImage,
            LogMaxLines = platform.LogMaxLines,
            LogRateLinesPerSecond = platform.LogRateLinesPerSecond,
            MetricsInterval = platform.MetricsInterval,
        };
    }
}
