using Paas.Core.Configuration;
using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace Paas.Router;

/// <summary>
/// Everything the router reads from its environment, parsed once at start so a typo fails loudly
/// before any port is bound rather than surfacing later as odd routing.
/// </summary>
public sealed record RouterSettings
{
    public const int DefaultPublicPort = 8080;
    public const int DefaultAdminPort = 8081;
    public const string DefaultBind = "0.0.0.0";
    public const string DefaultRedis = "127.0.0.1:6379";
    public const string DefaultPrefix = "paas:";
    public static readonly TimeSpan DefaultResyncInterval = TimeSpan.FromSeconds(30);
    public const int DefaultTlsPort = 8443;
    public const int DefaultMaxHeaderBytes = 32 * 1024;
    public static readonly TimeSpan DefaultBackendTimeout = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultCooldown = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultHeartbeatCheck = TimeSpan.FromSeconds(2);

    /// <summary>This router's name in <see cref="Paas.Core.Routing.RouteKeys.Routers"/>: unique per router (host name and port by default).</summary>
    public string RouterId { get; init; } = "router";

    public int PublicPort { get; init; } = DefaultPublicPort;
    public IPAddress Bind { get; init; } = IPAddress.Any;
    public int AdminPort { get; init; } = DefaultAdminPort;
    public string Redis { get; init; } = DefaultRedis;
    public string RedisPrefix { get; init; } = DefaultPrefix;
    public TimeSpan ResyncInterval { get; init; } = DefaultResyncInterval;

    /// <summary>HTTPS port (SNI certificates from <see cref="CertsDir"/>); 0 turns TLS off.</summary>
    public int TlsPort { get; init; } = DefaultTlsPort;

    /// <summary>
    /// Cleartext HTTP/2 (h2c, prior knowledge) port; 0 (default) turns it off. Kestrel cannot tell h2c from
    /// HTTP/1.1 on one cleartext port (there is no ALPN without TLS), so h2c clients get their own port.
    /// </summary>
    public int H2cPort { get; init; }

    /// <summary>Directory of NAME.crt + NAME.key PEM pairs, matched to hostnames by their DNS names.</summary>
    public string CertsDir { get; init; } = "/var/lib/paas/certs";

    /// <summary>Request headers larger than this in total get 431.</summary>
    public int MaxHeaderBytes { get; init; } = DefaultMaxHeaderBytes;

    /// <summary>Default request-body limit (413); null: unlimited. Apps may set their own.</summary>
    public long? MaxBodyBytes { get; init; }

    /// <summary>Default backend idle timeout (504); apps may set their own.</summary>
    public TimeSpan BackendTimeout { get; init; } = DefaultBackendTimeout;

    /// <summary>Keep a latency histogram per app, published for the controller's metrics history.</summary>
    public bool AppLatency { get; init; } = true;

    /// <summary>How often the per-app counts are published to Redis for the controller.</summary>
    public TimeSpan MetricsInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an instance that refused a connection is skipped.</summary>
    public TimeSpan Cooldown { get; init; } = DefaultCooldown;

    /// <summary>How often cell heartbeat keys are checked.</summary>
    public TimeSpan HeartbeatCheckInterval { get; init; } = DefaultHeartbeatCheck;

    /// <summary>After (re)connecting to Redis, how long missing heartbeat keys are forgiven (a restarted Redis may have lost them).</summary>
    public TimeSpan HeartbeatGrace { get; init; } = Paas.Core.Routing.CellHeartbeat.DefaultLostAfter;

    /// <summary>
    /// How long a starting router holds public traffic while it loads its first table from Redis. Served
    /// before that, every request would get 404 unknown_route (make chaos saw 23 of them after a router
    /// restart); held, connections wait in the listen backlog for a fraction of a second. Bounded, so a
    /// router started while Redis is away still answers (from an empty table) rather than not at all.
    /// </summary>
    public TimeSpan FirstTableWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>"stdout" (default), "off", or a file path to append access-log lines to.</summary>
    public string AccessLog { get; init; } = "stdout";

    /// <summary>Whether each request also leaves a <c>router</c> line in the app's log (Redis), independent of <see cref="AccessLog"/>.</summary>
    public bool AppLogs { get; init; } = true;

    /// <summary>About how many lines each app's log keeps; shared with the rest of the platform (PAAS_LOG_MAX_LINES).</summary>
    public int LogMaxLines { get; init; } = 10000;

    /// <summary>
    /// Who serves the public port: the router's own event loops (<see cref="FrontEnd.FrontEndServer"/>,
    /// the default where <see cref="EventLoopSupported"/>) or Kestrel alone. TLS, h2c and admin ports are always Kestrel's.
    /// </summary>
    public FrontEndKind FrontEnd { get; init; } = EventLoopSupported ? FrontEndKind.EventLoop : FrontEndKind.Kestrel;

    /// <summary>
    /// The event loop talks to the kernel through <see cref="FrontEnd.Libc.EpollEvent"/>, whose layout is
    /// packed (12 bytes) only on x86-64; on arm64 and others the kernel's struct epoll_event is 16 bytes with
    /// the data aligned. Rather than a second layout nobody here can test, the loop runs only where its layout
    /// is right (FrontEndPlatformTests checks it) and every other system gets Kestrel, which is correct everywhere.
    /// </summary>
    public static bool EventLoopSupported { get; } =
        OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64;

    /// <summary>Event loops (threads) on the public port; one per core by default.</summary>
    public int FrontEndThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Whether each event loop makes its sends and receives for a whole epoll batch in one io_uring
    /// submission (<see cref="FrontEnd.IoRing"/>) rather than one system call each. On where the kernel allows it.
    /// </summary>
    public bool BatchedIo { get; init; } = true;

    /// <summary>
    /// Whether the Kestrel path forwards bodiless HTTP/1.1 requests with the router's own client
    /// (<see cref="Forwarding.Http1.Http1Forwarder"/>) rather than YARP. Off only to measure what that client is worth
    /// (tests/benchmarks/router/bench.sh's router-kestrel-yarp row): it stays while that row shows a cost.
    /// </summary>
    public bool LeanHttp1 { get; init; } = true;

    /// <summary>True when the public listener should take every interface (IPv6 too, where present).</summary>
    public bool BindsAnyAddress => Bind.Equals(IPAddress.Any) || Bind.Equals(IPAddress.IPv6Any);

    /// <exception cref="FormatException">A variable is set to something unusable.</exception>
    public static RouterSettings FromEnvironment(Func<string, string?> read)
    {
        var env = new SettingsReader(read);
        var settings = new RouterSettings
        {
            PublicPort = env.Port("PAAS_ROUTER_PORT", DefaultPublicPort),
            Bind = env.Address("PAAS_ROUTER_BIND", DefaultBind),
            AdminPort = env.Port("PAAS_ROUTER_ADMIN_PORT", DefaultAdminPort),
            Redis = env.Text("PAAS_REDIS", DefaultRedis),
            // An empty prefix is legitimate (keys at the top level), so only an unset variable falls back.
            RedisPrefix = env.Exact("PAAS_REDIS_PREFIX") ?? DefaultPrefix,
            ResyncInterval = env.Seconds("PAAS_ROUTER_RESYNC_SECONDS", DefaultResyncInterval),
            TlsPort = env.Port("PAAS_ROUTER_TLS_PORT", DefaultTlsPort, zeroTurnsOff: true),
            H2cPort = env.Port("PAAS_ROUTER_H2C_PORT", 0, zeroTurnsOff: true),
            CertsDir = env.Optional("PAAS_ROUTER_CERTS_DIR") ?? Path.Combine(env.Text("PAAS_DATA_DIR", "/var/lib/paas"), "certs"),
            MaxHeaderBytes = (int)env.Bytes("PAAS_ROUTER_MAX_HEADER_BYTES", DefaultMaxHeaderBytes, 1024, 1024 * 1024)!.Value,
            MaxBodyBytes = env.Bytes("PAAS_ROUTER_MAX_BODY_BYTES", null),
            BackendTimeout = env.Seconds("PAAS_ROUTER_BACKEND_TIMEOUT_SECONDS", DefaultBackendTimeout),
            Cooldown = env.Seconds("PAAS_ROUTER_COOLDOWN_SECONDS", DefaultCooldown),
            HeartbeatCheckInterval = env.Seconds("PAAS_ROUTER_HEARTBEAT_CHECK_SECONDS", DefaultHeartbeatCheck),
            HeartbeatGrace = env.Seconds("PAAS_ROUTER_HEARTBEAT_GRACE_SECONDS", Paas.Core.Routing.CellHeartbeat.DefaultLostAfter),
            AccessLog = env.Text("PAAS_ROUTER_ACCESS_LOG", "stdout"),
            AppLogs = env.Switch("PAAS_ROUTER_APP_LOGS", true),
            LogMaxLines = env.Count("PAAS_LOG_MAX_LINES", 10000),
            FrontEnd = FrontEndChoice(env),
            FrontEndThreads = env.Count("PAAS_ROUTER_THREADS", Environment.ProcessorCount),
            BatchedIo = env.Switch("PAAS_ROUTER_IO_URING", true),
            LeanHttp1 = env.Switch("PAAS_ROUTER_LEAN_HTTP1", true),
            AppLatency = env.Switch("PAAS_ROUTER_APP_LATENCY", true),
            MetricsInterval = env.Seconds("PAAS_METRICS_INTERVAL_SECONDS", TimeSpan.FromSeconds(10)),
        };
        settings = settings with { RouterId = env.Text("PAAS_ROUTER_ID", $"{Environment.MachineName}-{settings.PublicPort}") };

        if (settings.TlsPort != 0 && (settings.TlsPort == settings.PublicPort || settings.TlsPort == settings.AdminPort))
        {
            throw SettingsReader.Invalid("PAAS_ROUTER_TLS_PORT", "a port other than the public and admin ports", settings.TlsPort.ToString(CultureInfo.InvariantCulture));
        }

        if (settings.H2cPort != 0 && (settings.H2cPort == settings.PublicPort || settings.H2cPort == settings.AdminPort || settings.H2cPort == settings.TlsPort))
        {
            throw SettingsReader.Invalid("PAAS_ROUTER_H2C_PORT", "a port other than the router's other ports", settings.H2cPort.ToString(CultureInfo.InvariantCulture));
        }

        if (settings.PublicPort == settings.AdminPort)
        {
            // Admin is told apart from public traffic by the local port; sharing one would expose /routes publicly.
            throw SettingsReader.Invalid("PAAS_ROUTER_ADMIN_PORT", "a port other than PAAS_ROUTER_PORT", settings.AdminPort.ToString(CultureInfo.InvariantCulture));
        }

        try
        {
            ConfigurationOptions.Parse(settings.Redis);
        }
        catch (ArgumentException ex)
        {
            throw new SettingException($"PAAS_REDIS must be a Redis configuration string such as 127.0.0.1:6379,password=..., not one that fails with: {ex.Message}");
        }

        return settings;
    }

    private static FrontEndKind FrontEndChoice(SettingsReader env) => FrontEndChoice(env.Optional("PAAS_ROUTER_FRONT_END"), EventLoopSupported);

    internal static FrontEndKind FrontEndChoice(string? value, bool eventLoopSupported) => value?.ToLowerInvariant() switch
    {
        null => eventLoopSupported ? FrontEndKind.EventLoop : FrontEndKind.Kestrel,
        "event-loop" when eventLoopSupported => FrontEndKind.EventLoop,
        "event-loop" => throw SettingsReader.Invalid("PAAS_ROUTER_FRONT_END",
            "'kestrel' on this system (the event loop needs Linux's epoll on x86-64)", "event-loop"),
        "kestrel" => FrontEndKind.Kestrel,
        var other => throw SettingsReader.Invalid("PAAS_ROUTER_FRONT_END", "'event-loop' or 'kestrel'", other),
    };
}
