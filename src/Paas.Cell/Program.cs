using System.Net;
using Paas.Cell.Agent;
using Paas.Cell.Api;
using Paas.Cell.Docker;
using Paas.Cell.Logs;
using Paas.Core.Cells;
using Paas.Core.Configuration;
using Paas.Core.Health;
using StackExchange.Redis;

// The cell agent: runs instances on one Docker engine for the controller, health-checks them, and
// reports what runs through Redis.
CellAgentSettings settings;
try
{
    settings = CellAgentSettings.FromEnvironment();
}
catch (SettingException e)
{
    Console.Error.WriteLine($"paas cell: {e.Message}");
    return 2;
}

var redis = await RedisConnection.ConnectAsync(settings.Redis, "paas-cell", message => Console.WriteLine($"paas cell: {message}"));
var time = TimeProvider.System;

// Containers are labelled with the platform id the controller publishes, so cells of different
// installations sharing one engine never adopt each other's containers.
string? platformId = null;
for (var attempt = 0; platformId is null; attempt++)
{
    platformId = await redis.GetDatabase().StringGetAsync(PlatformIdentity.Key(settings.RedisPrefix));
    if (platformId is null)
    {
        if (attempt % 50 == 0)
            Console.WriteLine("paas cell: waiting for the controller to publish the platform id in Redis");
        await Task.Delay(100);
    }
}

var docker = DockerClientFactory.Create(settings.DockerEndpoint);
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("System.Net.Http", LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse(settings.Bind), settings.Port));
var services = builder.Services;
services.AddSingleton(settings);
services.AddSingleton<TimeProvider>(time);
services.AddSingleton<IConnectionMultiplexer>(redis);
services.AddSingleton<Docker.DotNet.IDockerClient>(docker);
services.AddSingleton(new CellKeys(settings.RedisPrefix));
services.AddSingleton(new Paas.Core.Routing.RouteKeys(settings.RedisPrefix));
services.AddSingleton(sp => new DockerCell(settings.Name, docker, platformId, time, settings.Address, settings.Registry)
{
    CgroupParent = settings.CgroupParent,
    Logger = sp.GetRequiredService<ILogger<DockerCell>>(),
});
services.AddSingleton<StoppingInstances>();
services.AddSingleton(sp => new Paas.Cell.Addons.AddonContainers(docker, settings.Name, platformId, time,
    sp.GetRequiredService<ILogger<Paas.Cell.Addons.AddonContainers>>()));
services.AddSingleton(sp => new Paas.Cell.Tasks.TaskRunner(docker, sp.GetRequiredService<DockerCell>(), settings, platformId,
    sp.GetRequiredService<ILogger<Paas.Cell.Tasks.TaskRunner>>()));
services.AddSingleton<HeartbeatService>();
services.AddHostedService(sp => sp.GetRequiredService<HeartbeatService>());
services.AddSingleton<StackPrepull>();
services.AddHostedService(sp => sp.GetRequiredService<StackPrepull>());
services.AddHostedService<StartPathWarmup>();
services.AddHostedService<ContainerEventWatcher>();
services.AddHostedService<LivenessMonitor>();
services.AddHostedService<UsageSampler>();
services.AddLogCollector(settings);

var app = builder.Build();
// What a supervisor asks: 200 "ok" when Redis and the Docker engine answer, else 503 naming what failed.
var health = new DependencyHealth(
[
    new DependencyCheck("redis", _ => redis.GetDatabase().PingAsync()),
    new DependencyCheck("docker", ct => docker.System.PingAsync(ct)),
]);
app.MapGet("/healthz", async (CancellationToken ct) =>
{
    var report = await health.CheckAsync(ct);
    return Results.Text(report.Line + "\n", statusCode: report.StatusCode);
});
app.UseWebSockets();
app.MapCellApi(CellSecret.Load(settings.DataDirectory));
await app.StartAsync();
// Beside start-up, not before it: the agent must answer /healthz (naming Docker when the engine is away) at
// once, and a restart must not wait on an engine listing.
_ = app.Services.GetRequiredService<Paas.Cell.Tasks.TaskRunner>().RemoveLeftoversAsync(app.Lifetime.ApplicationStopping);
Console.WriteLine($"Paas cell {settings.Name} (zone {settings.Zone}, {settings.MemoryBytes / (1024 * 1024)} MB, max {settings.MaxInstances} instances) at {settings.AdvertisedUrl}");
await app.WaitForShutdownAsync();
return 0;
