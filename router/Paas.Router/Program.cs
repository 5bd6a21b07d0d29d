using System.Net;
using Microsoft.Extensions.Configuration.Memory;
using Paas.Router;
using Paas.Router.Admin;
using Paas.Router.Forwarding;
using Paas.Router.Sources;
using Paas.Router.Table;

RouterSettings settings;
try
{
    settings = RouterSettings.FromEnvironment(Environment.GetEnvironmentVariable);
}
catch (FormatException ex)
{
    Console.Error.WriteLine($"paas-router: {ex.Message}");
    return 2;
}

var builder = WebApplication.CreateSlimBuilder(args);

// Defaults go in first so Logging__LogLevel__* variables can still override them: a router logs per
// request at Information, which is noise at the traffic a routing tier sees.
builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
{
    InitialData = new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft"] = "Warning",
        ["Logging:LogLevel:System"] = "Warning",
        ["Logging:LogLevel:Yarp"] = "Error",
        ["Logging:LogLevel:StackExchange"] = "Warning",
    },
});

// Structured lines on stderr, leaving stdout for the one start-up line that scripts may read.
// Request headers are never logged anywhere (no HTTP logging middleware), so Authorization cannot leak.
builder.Logging.ClearProviders();
builder.Logging.AddJsonConsole(options =>
{
    options.UseUtcTimestamp = true;
    options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
});
builder.Logging.Configure(options => options.ActivityTrackingOptions = ActivityTrackingOptions.None);
builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(options =>
    options.LogToStandardErrorThreshold = LogLevel.Trace);

builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    // Upload limits are the app's business; the router would otherwise cut off large bodies at 30 MB.
    kestrel.Limits.MaxRequestBodySize = null;

    if (settings.BindsAnyAddress)
    {
        kestrel.ListenAnyIP(settings.PublicPort);
    }
    else
    {
        kestrel.Listen(settings.Bind, settings.PublicPort);
    }

    kestrel.Listen(IPAddress.Loopback, settings.AdminPort);
});

builder.Services.AddSingleton(settings);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<RouteTableStore>();
builder.Services.AddSingleton<RoundRobinBalancer>();
builder.Services.AddSingleton<BackendInvoker>();
builder.Services.AddSingleton<ProxyHandler>();
builder.Services.AddSingleton<AdminHandler>();
builder.Services.AddHttpForwarder();
builder.Services.AddHostedService<RedisRouteSource>();

var app = builder.Build();

var admin = app.Services.GetRequiredService<AdminHandler>();
var proxy = app.Services.GetRequiredService<ProxyHandler>();

// Told apart by the port the connection arrived on, not the Host header, which any client can forge.
app.MapWhen(context => context.Connection.LocalPort == settings.AdminPort, branch => branch.Run(admin.InvokeAsync));
app.Run(proxy.InvokeAsync);

try
{
    await app.StartAsync();
}
catch (IOException ex)
{
    Console.Error.WriteLine($"paas-router: cannot listen: {ex.Message}");
    return 1;
}

var publicAddress = new IPEndPoint(settings.Bind, settings.PublicPort);
var adminAddress = new IPEndPoint(IPAddress.Loopback, settings.AdminPort);
Console.Out.WriteLine($"paas-router listening on http://{publicAddress} (admin http://{adminAddress}, redis prefix '{settings.RedisPrefix}')");
Console.Out.Flush();

await app.WaitForShutdownAsync();
return 0;
