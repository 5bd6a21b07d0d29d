namespace Paas.Core.Configuration;

/// <summary>
/// Platform settings, each read from an environment variable (documented in README) with a default
/// that suits one machine.
/// </summary>
public sealed record PaasSettings
{
    public string DataDirectory { get; init; } = "/var/lib/paas";
    public string ApiBind { get; init; } = "0.0.0.0";
    public int ApiPort { get; init; } = 8090;
    /// <summary>HTTPS port for the API and git (the Heroku CLI's git remotes are https://); 0 turns it off.</summary>
    public int ApiTlsPort { get; init; } = 8490;
    /// <summary>
    /// TLS port where `heroku run` attaches to its one-off (the CLI's rendezvous protocol); 0 turns it off. Opened with
    /// the API's TLS port and certificate only.
    /// </summary>
    public int RendezvousPort { get; init; } = 8491;
    /// <summary>The host name `heroku run` connects to for <see cref="RendezvousPort"/>; the certificate must name it. Default: the host of <see cref="PublicApiUrl"/>.</summary>
    public string? RendezvousHost { get; init; }
    /// <summary>PEM pairs NAME.crt/NAME.key served on <see cref="ApiTlsPort"/>, chosen by SNI (the router's directory by default).</summary>
    public string? CertsDirectory { get; init; }
    /// <summary>The URL users reach the API and git on; it appears in git remotes.</summary>
    public string PublicApiUrl { get; init; } = "http://localhost:8090";
    public string AppDomain { get; init; } = "localhost";
    public int RouterPort { get; init; } = 8080;
    public string Redis { get; init; } = "127.0.0.1:6379";
    public string RedisPrefix { get; init; } = "paas:";
    public string DockerEndpoint { get; init; } = "unix:///var/run/docker.sock";
    public string StackImage { get; init; } = "paas/stack:latest";
    /// <summary>
    /// The image registry (a Docker Distribution server) release images are pushed to and cells pull from,
    /// as this component reaches it; null on a single host, where the one engine already has every image.
    /// </summary>
    public Images.RegistryAccess? Registry { get; init; }
    public string? BuildpacksDirectory { get; init; }
    /// <summary>The etcd members holding the controller's state (<c>PAAS_ETCD_ENDPOINTS</c>, comma-separated URLs); empty: the SQLite file in the data directory.</summary>
    public IReadOnlyList<string> EtcdEndpoints { get; init; } = [];
    /// <summary>The key prefix of this platform's state in etcd, so platforms can share a cluster.</summary>
    public string EtcdPrefix { get; init; } = "/paas/";
    /// <summary>
    /// Where other controllers reach this one (PAAS_CONTROLLER_ADDRESS): standbys forward writes and pushes to the
    /// leader's, and the leader copies pushes to the standbys'. Null: <see cref="LocalApiUrl"/>, enough on one host.
    /// </summary>
    public string? ControllerAddress { get; init; }
    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public long AppMemoryBytes { get; init; } = 512L * 1024 * 1024;
    /// <summary>How long a cell may miss heartbeats before it is lost and its instances are placed elsewhere (the TTL of its alive key, <see cref="Routing.CellHeartbeat"/>).</summary>
    public TimeSpan CellLostAfter { get; init; } = Routing.CellHeartbeat.DefaultLostAfter;
    /// <summary>After an instance leaves the routing table, how long in-flight requests get before it is stopped.</summary>
    public TimeSpan DrainTime { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>How many new instances a rolling deploy starts at once.</summary>
    public int RolloutMaxInFlight { get; init; } = 1;
    /// <summary>How often the converger passes over the apps whose desired state changed (crash events act at once).</summary>
    public TimeSpan ConvergeInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the converger passes over every app, the safety net for what no change or event announced (as Diego's converger, every 30 s).</summary>
    public TimeSpan FullConvergeInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often routers and cells publish their samples and the controller reads them into its metrics history.</summary>
    public TimeSpan MetricsInterval { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>How long staging (all buildpacks together) and a release command may run before they are stopped.</summary>
    public TimeSpan StagingTimeout { get; init; } = TimeSpan.FromMinutes(15);
    /// <summary>
    /// The cell that runs staging, release phases and one-offs (PAAS_STAGING_CELL); null: the live cell with the
    /// most free memory (the cell that staged a release runs its release phase, as the image is already there).
    /// </summary>
    public string? StagingCell { get; init; }
    public long StagingMemoryBytes { get; init; } = 1024L * 1024 * 1024;
    /// <summary>Build output past this many bytes is not forwarded to the pusher (the build goes on).</summary>
    public long StagingOutputLimitBytes { get; init; } = 8L * 1024 * 1024;
    /// <summary>
    /// Platform defaults the built-in buildpacks read at build time (the package index, the npm registry), by the
    /// setting's own name (PAAS_PIP_INDEX_URL…); an app's config var of the tool's own name wins over them.
    /// </summary>
    public IReadOnlyDictionary<string, string> BuildDefaults { get; init; } = new Dictionary<string, string>();
    /// <summary>Dockerfile and prebuilt images whose USER is root may run as root (off: they are refused at staging).</summary>
    public bool DockerfileAllowRoot { get; init; }
    /// <summary>The largest pushed tree (sum of its files) that is staged.</summary>
    public long MaxPushBytes { get; init; } = 512L * 1024 * 1024;
    /// <summary>The most files and directories a pushed tree may hold (counted as staging would write them).</summary>
    public int MaxPushEntries { get; init; } = 100_000;
    /// <summary>How many recent releases per app keep their images (for rollback); older images are pruned.</summary>
    public int KeepReleases { get; init; } = 5;
    /// <summary>About how many lines each app's log keeps (older ones are trimmed).</summary>
    public int LogMaxLines { get; init; } = 10000;
    /// <summary>How many lines per second each app may log on each cell (bursts of twice that); the rest are dropped and counted.</summary>
    public int LogRateLinesPerSecond { get; init; } = 500;
    /// <summary>Whether tenants' buildpack URLs may name loopback, private or link-local hosts (an operator's choice; off by default).</summary>
    public bool AllowPrivateBuildpackHosts { get; init; }
    /// <summary>The ACME directory custom domains' certificates come from (<c>paas certs:auto:enable</c>).</summary>
    public string AcmeDirectory { get; init; } = DefaultAcmeDirectory;
    public const string DefaultAcmeDirectory = "https://acme-v02.api.letsencrypt.org/directory";
    /// <summary>The contact address given to the ACME directory for the platform's account (expiry notices); none when unset.</summary>
    public string? AcmeEmail { get; init; }
    /// <summary>A PEM file of CA certificates trusted for the ACME directory's own HTTPS (a test server such as pebble); the system's roots when unset.</summary>
    public string? AcmeCaFile { get; init; }

    public string AppUrl(string app) =>
        RouterPort == 80 ? $"http://{app}.{AppDomain}/" : $"http://{app}.{AppDomain}:{RouterPort}/";

    /// <summary>
    /// The API as processes on this host reach it (the git hook calls back here): the address it is bound
    /// to, or loopback when it listens on every interface. Never a fixed 127.0.0.1: with PAAS_API_BIND set
    /// to one address, nothing listens on loopback.
    /// </summary>
    public string LocalApiUrl => ApiBind switch
    {
        "0.0.0.0" or "127.0.0.1" or "" => $"http://127.0.0.1:{ApiPort}",
        "::" or "[::]" => $"http://[::1]:{ApiPort}",
        var bind when bind.Contains(':') && !bind.StartsWith('[') => $"http://[{bind}]:{ApiPort}",
        var bind => $"http://{bind}:{ApiPort}",
    };

    private static string ControllerUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.AbsolutePath == "/" && uri.Query.Length == 0
            ? value.TrimEnd('/')
            : throw SettingsReader.Invalid("PAAS_CONTROLLER_ADDRESS", "an http(s) URL of this controller's API like http://10.0.0.5:8090", value);

    public string GitUrl(string app) => $"{PublicApiUrl.TrimEnd('/')}/{app}.git";

    public string AppHost(string app) => $"{app}.{AppDomain}".ToLowerInvariant();

    public static PaasSettings FromEnvironment(Func<string, string?>? read = null)
    {
        var env = new SettingsReader(read ?? Environment.GetEnvironmentVariable);
        var d = new PaasSettings();
        var apiPort = env.Port("PAAS_API_PORT", d.ApiPort);
        return d with
        {
            DataDirectory = env.Text("PAAS_DATA_DIR", d.DataDirectory),
            ApiBind = env.Text("PAAS_API_BIND", d.ApiBind),
            ApiPort = apiPort,
            ApiTlsPort = env.Port("PAAS_API_TLS_PORT", d.ApiTlsPort, zeroTurnsOff: true),
            RendezvousPort = env.Port("PAAS_RENDEZVOUS_PORT", d.RendezvousPort, zeroTurnsOff: true),
            RendezvousHost = env.Optional("PAAS_RENDEZVOUS_HOST"),
            CertsDirectory = env.Optional("PAAS_CERTS_DIR"),
            AcmeDirectory = env.Text("PAAS_ACME_DIRECTORY", DefaultAcmeDirectory),
            AcmeEmail = env.Optional("PAAS_ACME_EMAIL"),
            AcmeCaFile = env.Optional("PAAS_ACME_CA_FILE"),
            PublicApiUrl = env.Text("PAAS_API_URL", $"http://localhost:{apiPort}"),
            AppDomain = env.Text("PAAS_DOMAIN", d.AppDomain).ToLowerInvariant(),
            RouterPort = env.Port("PAAS_ROUTER_PORT", d.RouterPort),
            Redis = env.Text("PAAS_REDIS", d.Redis),
            // An empty prefix is legitimate (keys at the top level), as the router reads it: only unset falls back.
            RedisPrefix = env.Exact("PAAS_REDIS_PREFIX") ?? d.RedisPrefix,
            DockerEndpoint = env.Text("DOCKER_HOST", d.DockerEndpoint),
            StackImage = env.Text("PAAS_STACK_IMAGE", d.StackImage),
            Registry = Images.RegistryAccess.From(env),
            BuildpacksDirectory = env.Optional("PAAS_BUILDPACKS_DIR"),
            EtcdEndpoints = (env.Optional("PAAS_ETCD_ENDPOINTS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            EtcdPrefix = env.Text("PAAS_ETCD_PREFIX", d.EtcdPrefix),
            ControllerAddress = env.Optional("PAAS_CONTROLLER_ADDRESS") is { } address ? ControllerUrl(address) : null,
            HealthTimeout = env.Seconds("PAAS_HEALTH_TIMEOUT_SECONDS", d.HealthTimeout),
            AppMemoryBytes = env.Megabytes("PAAS_APP_MEMORY_MB", d.AppMemoryBytes),
            CellLostAfter = env.Seconds("PAAS_CELL_LOST_SECONDS", d.CellLostAfter),
            DrainTime = env.Milliseconds("PAAS_DRAIN_MS", d.DrainTime),
            RolloutMaxInFlight = env.Count("PAAS_ROLLOUT_MAX_IN_FLIGHT", d.RolloutMaxInFlight),
            ConvergeInterval = env.Seconds("PAAS_CONVERGE_SECONDS", d.ConvergeInterval),
            FullConvergeInterval = env.Seconds("PAAS_FULL_CONVERGE_SECONDS", d.FullConvergeInterval),
            MetricsInterval = env.Seconds("PAAS_METRICS_INTERVAL_SECONDS", d.MetricsInterval),
            StagingTimeout = env.Seconds("PAAS_STAGING_TIMEOUT_SECONDS", d.StagingTimeout),
            StagingCell = env.Optional("PAAS_STAGING_CELL"),
            StagingMemoryBytes = env.Megabytes("PAAS_STAGING_MEMORY_MB", d.StagingMemoryBytes),
            StagingOutputLimitBytes = env.Megabytes("PAAS_STAGING_OUTPUT_LIMIT_MB", d.StagingOutputLimitBytes),
            BuildDefaults = new[] { "PAAS_PIP_INDEX_URL", "PAAS_PIP_EXTRA_INDEX_URL", "PAAS_NPM_REGISTRY" }
                .Where(name => env.Optional(name) is not null)
                .ToDictionary(name => name, name => env.Optional(name)!),
            DockerfileAllowRoot = env.Switch("PAAS_DOCKERFILE_ALLOW_ROOT", d.DockerfileAllowRoot),
            MaxPushBytes = env.Megabytes("PAAS_MAX_PUSH_MB", d.MaxPushBytes),
            MaxPushEntries = env.Count("PAAS_MAX_PUSH_FILES", d.MaxPushEntries),
            KeepReleases = env.Count("PAAS_KEEP_RELEASES", d.KeepReleases),
            LogMaxLines = env.Count("PAAS_LOG_MAX_LINES", d.LogMaxLines),
            LogRateLinesPerSecond = env.Count("PAAS_LOG_RATE_LINES_PER_SEC", d.LogRateLinesPerSecond),
            AllowPrivateBuildpackHosts = env.Switch("PAAS_BUILDPACK_ALLOW_PRIVATE_HOSTS", d.AllowPrivateBuildpackHosts),
        };
    }
}
