using System.Net;
using Docker.DotNet;
using Microsoft.AspNetCore.Connections;
using Paas.Controller.Cells;
using Paas.Controller.Api;
using Paas.Controller.Apps;
using Paas.Controller.Auth;
using Paas.Controller.Deploys;
using Paas.Controller.Formation;
using Paas.Controller.Git;
using Paas.Controller.Heroku;
using Paas.Controller.Releases;
using Paas.Controller.Instances;
using Paas.Controller.Leadership;
using Paas.Controller.Logs;
using Paas.Controller.Routing;
using Paas.Controller.State;
using Paas.Core.Cells;
using Paas.Core.Configuration;
using Paas.Core.Health;
using Paas.Core.Logs;
using Paas.Core.Routing;
using Paas.Core.Tls;
using Paas.Placement;
using Paas.Staging;
using Paas.Staging.Buildpacks;
using Paas.Staging.Hygiene;
using Paas.Staging.OneOff;
using StackExchange.Redis;

PaasSettings settings;
try
{
    settings = PaasSettings.FromEnvironment();
}
catch (SettingException e)
{
    Console.Error.WriteLine($"paas controller: {e.Message}");
    return 2;
}

var dataDir = Path.GetFullPath(settings.DataDirectory);
Directory.CreateDirectory(dataDir);
var time = TimeProvider.System;
IStateStore database;
IDomainStore domainStore;
EtcdConnection? etcd;
try
{
    (database, domainStore, etcd) = StateStores.Open(settings, dataDir, time);
}
catch (Exception e) when (e is ArgumentException or SchemaVersionException)
{
    // A newer schema is refused before anything is written: this build would misread it.
    Console.Error.WriteLine($"paas controller: {e.Message}");
    return 2;
}
var tokens = new TokenService(database);
var adminTokenPath = Path.Combine(dataDir, "admin-token");
tokens.EnsureAdminToken(adminTokenPath);
var platformId = database.GetOrCreateSetting("platform_id", () => Guid.NewGuid().ToString("N")[..12]);
var buildpacksDir = settings.BuildpacksDirectory ?? FindBuildpacks()
    ?? throw new InvalidOperationException("Could not find the buildpacks directory; set PAAS_BUILDPACKS_DIR.");

// The Heroku CLI writes https:// git remotes, so API and git are served over TLS too, with the platform certificate.
CertificateStore? certificates = null;
var certsDir = settings.CertsDirectory ?? Path.Combine(dataDir, "certs");
if (settings.ApiTlsPort != 0)
{
    using var loggers = LoggerFactory.Create(logging => logging.AddSimpleConsole().AddFilter(level => level >= LogLevel.Warning));
    certificates = new CertificateStore(certsDir, loggers.CreateLogger<CertificateStore>());
    if (certificates.IsEmpty)
    {
        Console.Error.WriteLine($"paas controller: no certificates in {certsDir}; HTTPS port {settings.ApiTlsPort} not opened (deploy/tls/make-cert.sh makes one)");
        certificates = null;
    }
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("System.Net.Http", LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k =>
{
    k.Listen(IPAddress.Parse(settings.ApiBind), settings.ApiPort);
    if (certificates is not null)
        k.Listen(IPAddress.Parse(settings.ApiBind), settings.ApiTlsPort, listen => listen.UseHttps(https => https.ServerCertificateSelector = (_, name) => certificates.Select(name)));
    // `heroku run` attaches on a port of its own (the CLI's rendezvous protocol), with the same certificate.
    if (certificates is not null && settings.RendezvousPort != 0)
        k.Listen(IPAddress.Parse(settings.ApiBind), settings.RendezvousPort, listen =>
        {
            listen.UseHttps(https => https.ServerCertificateSelector = (_, name) => certificates.Select(name));
            // The one listener (not one per connection), so its counters are the ones /metrics shows.
            listen.Run(connection => listen.ApplicationServices.GetRequiredService<Paas.Controller.Runs.RendezvousListener>().OnConnectedAsync(connection));
        });
    k.Limits.MaxRequestBodySize = null; // git pushes stream through; http-backend enforces its own limits
});

var redis = await RedisConnection.ConnectAsync(settings.Redis, "paas-controller", message => Console.WriteLine($"paas controller: {message}"));
// Staging runs on the controller's own engine; no API version is pinned, so the engine answers in its own.
var docker = new DockerClientConfiguration(new Uri(settings.DockerEndpoint), defaultTimeout: TimeSpan.FromMinutes(5)).CreateClient();
// Cells learn the platform id from Redis; the database is its durable source.
await redis.GetDatabase().StringSetAsync(PlatformIdentity.Key(settings.RedisPrefix), platformId);
var cellSecret = CellSecret.Load(dataDir);

var services = builder.Services;
services.AddSingleton(settings);
services.AddSingleton(time);
services.AddSingleton(database);
services.AddSingleton(domainStore);
services.AddSingleton(tokens);
services.AddSingleton<RequestAuthenticator>();
services.AddSingleton<AppAccess>();
services.AddSingleton<Paas.Controller.Dashboard.DashboardSessions>();
services.AddSingleton<IConnectionMultiplexer>(redis);
services.AddSingleton(new RouteKeys(settings.RedisPrefix));
var appLogs = new AppLogWriter(redis, new LogKeys(settings.RedisPrefix), settings.LogMaxLines, time);
services.AddSingleton(appLogs);
services.AddSingleton(new AppLogReader(redis, new LogKeys(settings.RedisPrefix), time));
database.EventAdded += e => appLogs.Post(e.App, LogSource.Platform, "", e.Actor == "platform" ? e.Message : $"{e.Message} by {e.Actor}");
services.AddSingleton(sp => new RoutePublisher(redis, sp.GetRequiredService<RouteKeys>()));
// The controller's core (converger, instance manager) sees routes, cells and their events through these seams; the simulation tests fake them.
services.AddSingleton<IRoutePublisher>(sp => sp.GetRequiredService<RoutePublisher>());
services.AddSingleton(new GitRepositories(Path.Combine(dataDir, "repos"), Path.Combine(dataDir, "hooks")));
services.AddSingleton<GitHttpBackend>();
services.AddSingleton<GitEndpoint>();
services.AddSingleton(new ReplicationKey(cellSecret));
services.AddSingleton<ReplicaEndpoint>();
services.AddSingleton<RepositoryReplicator>();
services.AddSingleton<ReplicationHookEndpoint>();
// One controller with SQLite; with etcd, any number, one of them elected to run the loops that change things.
var self = ControllerIdentity.New(settings.ControllerAddress ?? settings.LocalApiUrl);
services.AddSingleton<ILeadership>(sp => etcd is null
    ? new SingleController(self)
    : new ElectedLeadership(new EtcdElectionStore(etcd), self, time, sp.GetRequiredService<ILogger<ElectedLeadership>>()));
services.AddHttpForwarder();
services.AddSingleton<LeaderForwarding>();
services.AddSingleton<HookSecret>();
services.AddSingleton<HookEndpoint>();
services.AddSingleton(new BuildpackFetcher(Path.Combine(dataDir, "buildpacks-cache"),
    new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, new HttpClient(PublicNetwork.Handler()) { Timeout = Timeout.InfiniteTimeSpan },
    settings.AllowPrivateBuildpackHosts));
services.AddSingleton(new StagingOptions(settings.StackImage, buildpacksDir, Path.Combine(dataDir, "cache"), Path.Combine(dataDir, "tmp"), platformId)
    { TimeLimit = settings.StagingTimeout, MemoryBytes = settings.StagingMemoryBytes, OutputLimitBytes = settings.StagingOutputLimitBytes });
// Staging, release phases and one-offs run on a cell (TaskPlacement), with that cell's engine; buildpacks are fetched here.
services.AddSingleton<Paas.Controller.Tasks.TaskPlacement>();
services.AddSingleton<IStager>(sp => new Paas.Controller.Tasks.CellStager(sp.GetRequiredService<Paas.Controller.Tasks.TaskPlacement>(),
    sp.GetRequiredService<BuildpackFetcher>(), settings, buildpacksDir));
services.AddSingleton<Paas.Controller.Tasks.OneOffTasks>();
services.AddSingleton(new ImageJanitor(docker, platformId, Path.Combine(dataDir, "tmp")));
// The registry's own API (health, deleting pruned releases' manifests), when there is a registry.
var registryClient = settings.Registry is { } registryAccess ? new Paas.Core.Images.RegistryClient(registryAccess) : null;
services.AddSingleton(new Paas.Controller.Deploys.RegistryPruner(registryClient));
services.AddSingleton(sp => new Paas.Controller.Releases.ReleaseImages(registryClient,
    async (app, ct) => (await sp.GetRequiredService<ImageJanitor>().ReleaseTagsAsync(app, ct)).Select(t => t.Tag),
    sp.GetRequiredService<ILogger<Paas.Controller.Releases.ReleaseImages>>()));
services.AddSingleton<IPlacementPolicy, SpreadPlacementPolicy>();
services.AddSingleton(new CellKeys(settings.RedisPrefix));
services.AddSingleton(sp => new CellDirectory(redis, sp.GetRequiredService<CellKeys>(), sp.GetRequiredService<RouteKeys>(), cellSecret,
    sp.GetRequiredService<IPlacementPolicy>(), settings.CellLostAfter, sp.GetRequiredService<ILogger<CellDirectory>>()));
services.AddSingleton<ICellFleet>(sp => sp.GetRequiredService<CellDirectory>());
services.AddSingleton<ICellEvents, RedisCellEvents>();
services.AddSingleton(new CrashTracker(RestartBackoff.Default, time));
services.AddSingleton<AppLocks>();
services.AddSingleton<CellsView>();
services.AddSingleton<Paas.Controller.Releases.ReleaseImagePushes>();
services.AddSingleton<InstanceManager>();
services.AddSingleton<InstanceCommands>();
services.AddSingleton<Paas.Controller.Releases.BuildOutputs>();
services.AddSingleton<Paas.Controller.Runs.OneOffRuns>();
services.AddSingleton<Paas.Controller.Runs.RendezvousSecrets<Paas.Controller.Runs.RendezvousRun>>();
services.AddSingleton(new Paas.Controller.Runs.RendezvousAddress(certificates is not null && settings.RendezvousPort != 0,
    settings.RendezvousHost ?? new Uri(settings.PublicApiUrl).Host, settings.RendezvousPort));
services.AddSingleton<Paas.Controller.Runs.RendezvousListener>();
services.AddSingleton<Deployer>();
services.AddSingleton<ReleaseService>();
services.AddSingleton<Paas.Controller.Operations.ReleaseOutcomes>();
services.AddSingleton<AppLifecycle>();
services.AddSingleton<AppRename>();
services.AddSingleton<Converger>();
services.AddSingleton<FormationService>();
services.AddSingleton<Paas.Controller.Storage.StorageService>();
services.AddSingleton<HerokuLogSessions>();
services.AddSingleton<IHerokuLogSource, AppLogStreamSource>();
services.AddSingleton<DeployRecovery>();
services.AddSingleton(System.Security.Cryptography.RandomNumberGenerator.Create());
services.AddSingleton<Paas.Controller.Addons.AddonService>();
services.AddSingleton(sp => new Paas.Controller.Addons.AddonBackups(database, sp.GetRequiredService<CellDirectory>(), Path.Combine(dataDir, "backups"), time));
// Every hosted loop that changes state runs on the leader only: add it here, in start order. Deploy recovery
// first: it takes the locks of apps with an interrupted deploy before the converger's first pass runs.
services.AddLeaderOnly<DeployRecovery>();
services.AddLeaderOnly<Converger>();
services.AddLeaderOnly<Paas.Controller.Addons.AddonConverger>();
services.AddSingleton<Paas.Controller.Addons.IScheduledBackups>(sp => sp.GetRequiredService<Paas.Controller.Addons.AddonBackups>());
services.AddLeaderOnly<Paas.Controller.Addons.BackupScheduler>();
services.AddSingleton(new Paas.Core.Tls.TlsKeys(settings.RedisPrefix));
services.AddSingleton(sp => new Paas.Controller.Certificates.TlsPublisher(redis, sp.GetRequiredService<Paas.Core.Tls.TlsKeys>(), Paas.Core.Tls.KeySealer.ForRedis(settings.Redis)));
services.AddSingleton<Paas.Controller.Certificates.ICertificateIssuer, Paas.Controller.Certificates.AcmeIssuer>();
services.AddLeaderOnly<Paas.Controller.Certificates.CertificateManager>();
// The stack is published by one controller, which names its digest for joining cells; standbys would push it again.
services.AddLeaderOnly(sp => new StackImagePublisher(docker, settings, redis, sp.GetRequiredService<CellKeys>(), time,
    sp.GetRequiredService<ILogger<StackImagePublisher>>()));
services.AddHostedService<LeadershipService>();
// Every controller keeps its own in-memory metrics history (it only reads Redis), so standbys answer too.
services.AddSingleton(new Paas.Core.Metrics.MetricsKeys(settings.RedisPrefix));
services.AddSingleton(new Paas.Controller.Metrics.MetricsHistory(time));
services.AddSingleton<Paas.Controller.Metrics.MetricsCollector>();
services.AddHostedService(sp => sp.GetRequiredService<Paas.Controller.Metrics.MetricsCollector>());
services.AddOpenApi(o => o.AddDocumentTransformer<ApiDocumentTransformer>());

// Unreadable bodies surface as exceptions, so ApiErrorMiddleware can answer them in the API's JSON shape.
services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

var app = builder.Build();
app.UseApiErrors();
app.UseWebSockets();
var forwarding = app.Services.GetRequiredService<LeaderForwarding>();
app.Use((context, next) => forwarding.InvokeAsync(context, _ => next()));
var leadership = app.Services.GetRequiredService<ILeadership>();

// What a supervisor asks: 200 "ok" when Redis, the database and the registry (when there is one) answer, else
// 503 naming what failed. Without its registry the controller cannot deploy: a monitor should hear of it.
List<DependencyCheck> dependencies =
[
    new DependencyCheck("redis", _ => redis.GetDatabase().PingAsync()),
    new DependencyCheck(settings.EtcdEndpoints.Count > 0 ? "etcd" : "database", ct => Task.Run(database.Ping, ct)),
];
if (registryClient is not null)
    dependencies.Add(new DependencyCheck("registry", registryClient.PingAsync));
var health = new DependencyHealth(dependencies);
// The second line says which role this controller has and where the leader is (standbys forward writes there).
app.MapGet("/healthz", async (CancellationToken ct) =>
{
    var report = await health.CheckAsync(ct);
    return Results.Text($"{report.Line}\nrole: {leadership.Role}; leader: {leadership.Leader?.Address ?? "none"}\n", statusCode: report.StatusCode);
}).ExcludeFromDescription();
var collector = app.Services.GetRequiredService<Paas.Controller.Metrics.MetricsCollector>();
var certificateManager = app.Services.GetRequiredService<Paas.Controller.Certificates.CertificateManager>();
var rendezvousListener = app.Services.GetRequiredService<Paas.Controller.Runs.RendezvousListener>();
app.MapGet("/metrics", () => Results.Text(
    "# HELP paas_controller_leader 1 when this controller holds the leadership and runs the loops, 0 on a standby.\n"
    + "# TYPE paas_controller_leader gauge\n"
    + $"paas_controller_leader {(leadership.IsLeader ? 1 : 0)}\n"
    + "# HELP paas_controller_metrics_collections_total Reads of routers' and cells' samples into the metrics history.\n"
    + "# TYPE paas_controller_metrics_collections_total counter\n"
    + $"paas_controller_metrics_collections_total {collector.Collections}\n"
    + "# HELP paas_controller_certificates_issued_total Custom domains' certificates obtained from the ACME directory (first or renewed).\n"
    + "# TYPE paas_controller_certificates_issued_total counter\n"
    + $"paas_controller_certificates_issued_total {certificateManager.Issued}\n"
    + "# HELP paas_controller_certificate_failures_total Certificate orders that failed (retried with backoff).\n"
    + "# TYPE paas_controller_certificate_failures_total counter\n"
    + $"paas_controller_certificate_failures_total {certificateManager.Failed}\n"
    + "# HELP paas_controller_rendezvous_attached_total `heroku run` sessions attached with a valid secret.\n"
    + "# TYPE paas_controller_rendezvous_attached_total counter\n"
    + $"paas_controller_rendezvous_attached_total {rendezvousListener.Attached}\n"
    + "# HELP paas_controller_rendezvous_refused_total Rendezvous connections refused (unknown, used or expired secret).\n"
    + "# TYPE paas_controller_rendezvous_refused_total counter\n"
    + $"paas_controller_rendezvous_refused_total {rendezvousListener.Refused}\n", "text/plain; version=0.0.4")).ExcludeFromDescription();
app.MapOpenApi(); // /openapi/v1.json, unauthenticated: it describes the API, it reveals no data
app.MapGet("/v1/info", () => Results.Json(new
{
    api_url = settings.PublicApiUrl,
    git_url_pattern = settings.GitUrl("APP"),
    app_url_pattern = settings.AppUrl("APP"),
}));
var api = app.MapGroup("/v1");
api.AddEndpointFilter(ApiAuthorization.FilterAsync);
api.MapAccountApi();
api.MapUsersApi();
api.MapAppsApi();
api.MapCollaboratorsApi();
api.MapConfigApi();
api.MapReleasesApi();
api.MapRegistryCredentialsApi();
api.MapProcessApi();
api.MapBuildpacksApi();
api.MapRunsApi();
api.MapDomainsApi();
api.MapCertsApi();
api.MapRoutingApi();
api.MapLogsApi();
api.MapAddonsApi();
api.MapBackupsApi();
api.MapStorageApi();
Paas.Controller.Metrics.MetricsEndpoints.MapMetricsApi(api);
Paas.Controller.Dashboard.DashboardStreams.MapDashboardStreams(api);
api.MapGet("/cells", (HttpContext context, CellsView cells) =>
    Caller.Of(context).IsAdmin ? cells.ListAsync() : Task.FromResult(ApiAuthorization.OperatorsOnly("see cells")));
app.MapHerokuApi();
Paas.Controller.Dashboard.DashboardEndpoints.MapDashboard(app);
app.MapPost(HookEndpoint.Path, (HttpContext context, HookEndpoint hook) => hook.HandleAsync(context)).ExcludeFromDescription();
app.MapPost(ReplicationHookEndpoint.Path, (HttpContext context, ReplicationHookEndpoint hook) => hook.HandleAsync(context)).ExcludeFromDescription();
app.Map(ReplicaEndpoint.Prefix + "/{app}.git/{**rest}", (HttpContext context, string app, string? rest, ReplicaEndpoint replicas) => replicas.HandleAsync(context, app, rest ?? "")).ExcludeFromDescription();
app.Map("/{app}.git/{**rest}", (HttpContext context, string app, string? rest, GitEndpoint git) => git.HandleAsync(context, app, rest ?? "")).ExcludeFromDescription();

await app.StartAsync();
Console.WriteLine($"Paas controller {platformId} is serving");
Console.WriteLine($"  API:  {settings.PublicApiUrl}   (admin token in {adminTokenPath})");
Console.WriteLine($"  git:  {settings.GitUrl("APP")}{(certificates is null ? "" : $"   (and https on port {settings.ApiTlsPort})")}");
Console.WriteLine($"  apps: {settings.AppUrl("APP")}");
Console.WriteLine($"  dashboard: {settings.PublicApiUrl.TrimEnd('/')}{Paas.Controller.Dashboard.DashboardEndpoints.Prefix}/   (log in with an API token)");
await app.WaitForShutdownAsync();
// 3 when leadership was lost (LeadershipService), so the supervisor's log says why it restarts this controller.
return Environment.ExitCode;

static string? FindBuildpacks()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, "buildpacks");
        if (File.Exists(Path.Combine(candidate, "order")))
            return candidate;
    }
    return null;
}
