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

    /// <summary>Where other hosts reach this cell and its instances (PAAS_CELL_ADDRESS): instance ports are published on it.</summary>
    public string Address { get; init; } = "127.0.0.1";

    /// <summary>How this cell reaches the image registry (PAAS_REGISTRY and its credentials), if there is one.</summary>
    public Paas.Core.Images.RegistryAccess? Registry { get; init; }

    /// <summary>The image staging containers run on (PAAS_STACK_IMAGE): it must be on this cell's engine for the cell to stage.</summary>
    public string StackImage { get; init; } = "paas/stack:latest";

    /// <summary>The TTL of this cell's alive key: silent this long, the cell is lost (see <see cref="Paas.Core.Routing.CellHeartbeat"/>).</summary>
    public TimeSpan LostAfter { get; init; } = Paas.Core.Routing.CellHeartbeat.DefaultLostAfter;

    public static CellAgentSettings FromEnvironment(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        var platform = PaasSettings.FromEnvironment(read);
        var port = Int(read, "PAAS_CELL_PORT", 8091);
        var address = Str(read, "PAAS_CELL_ADDRESS", "127.0.0.1");
        if (!System.Net.IPAddress.TryParse(address, out _))
            throw new ArgumentException($"PAAS_CELL_ADDRESS must be an IP address other hosts reach this cell at, not '{address}'.");
        var bind = Str(read, "PAAS_CELL_BIND", address);
        var name = Str(read, "PAAS_CELL_NAME", "local");
        if (!Paas.Core.Apps.AppName.IsValid(name))
            throw new ArgumentException($"PAAS_CELL_NAME '{name}' must be a DNS label (lowercase letters, digits, hyphens).");
        var hostMemory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var heartbeat = TimeSpan.FromMilliseconds(Int(read, "PAAS_CELL_HEARTBEAT_MS", 1000));
        // Two beats may be lost (a slow Redis, a GC pause) before the key expires.
        if (heartbeat * 3 > platform.CellLostAfter)
            throw new ArgumentException($"PAAS_CELL_HEARTBEAT_MS ({heartbeat.TotalMilliseconds:0}) must be at most a third of PAAS_CELL_LOST_SECONDS ({platform.CellLostAfter.TotalSeconds:0} s).");
        return new CellAgentSettings(
            Name: name,
            Zone: Str(read, "PAAS_CELL_ZONE", "zone-1"),
            MemoryBytes: read("PAAS_CELL_MEMORY_MB") is { Length: > 0 } ? Int(read, "PAAS_CELL_MEMORY_MB", 0) * 1024L * 1024 : hostMemory,
            MaxInstances: Int(read, "PAAS_CELL_MAX_INSTANCES", 100),
            Bind: bind,
            Port: port,
            AdvertisedUrl: Str(read, "PAAS_CELL_URL", $"http://{(bind == "0.0.0.0" ? address : bind)}:{port}"),
            DockerEndpoint: platform.DockerEndpoint,
            Redis: platform.Redis,
            RedisPrefix: platform.RedisPrefix,
            DataDirectory: platform.DataDirectory,
            HeartbeatInterval: heartbeat)
        {
            LostAfter = platform.CellLostAfter,
            Address = address,
            Registry = platform.Registry,
            StackImage = platform.StackImage,
            LogMaxLines = platform.LogMaxLines,
            LogRateLinesPerSecond = platform.LogRateLinesPerSecond,
        };
    }

    private static string Str(Func<string, string?> read, string name, string fallback) => PaasSettings.Str(read, name, fallback);

    private static int Int(Func<string, string?> read, string name, int fallback) => PaasSettings.Int(read, name, fallback);
}
