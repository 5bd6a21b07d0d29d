using System.Net;
using System.Net.Security;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration.Memory;
using Paas.Router;
using Paas.Router.Admin;
using Paas.Router.Forwarding;
using Paas.Router.FrontEnd;
using Paas.Router.Forwarding.Http1;
using Paas.Router.Health;
using Paas.Router.Observability;
using Paas.Router.Sources;
using Paas.Router.Table;
using Paas.Core.Tls;

// Socket completions run their continuations on the epoll thread instead of hopping to the thread
// pool: a proxy request is four socket operations (read client, write app, read app, write client)
// and each hop is a queue, a wake-up and a context switch. Safe because nothing on the request path
// blocks (the table is in memory, Redis and the access log run elsewhere). Read once by the runtime
// when sockets are first used, so it must be set before anything opens one; an explicit setting of
// the variable (=0) wins. See tests/benchmarks/router for the measurements.
var inlineCompletions = Environment.GetEnvironmentVariable(InlineCompletions) ?? "1";
Environment.SetEnvironmentVariable(InlineCompletions, inlineCompletions);

RouterSettings settings;
try
{
    settings = RouterSettings.FromEnvironment(Environment.GetEnvironmentVariable);
}
catch (Paas.Core.Configuration.SettingException ex)
{
    Console.Error.WriteLine($"paas-router: {ex.Message}");
    return 2;
}

// The router reads no configuration files, so nothing should watch the working directory for them:
// the default watcher wakes up on every write to any file there (a log, say).
Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
var builder = WebApplication.CreateSlimBuilder(args);

// Defaults go in first so Logging__LogLevel__* variables can still override them. Nothing logs per
// request: the access log is its own, allocation-free path (Observability/AccessLog).
builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
{
    InitialData = new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft"] = "Warning",
        // Any enabled level here makes ASP.NET Core start an Activity per request (for log scopes); the
        // router logs nothing per request, so that work would be for nobody.
        ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "None",
        ["Logging:LogLevel:System"] = "Warning",
        ["Logging:LogLevel:Yarp"] = "Error",
        ["Logging:LogLevel:StackExchange"] = "Warning",
    },
});

// Structured lines on stderr, leaving stdout for the start-up line and the access log.
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

// The public port is bound before anything else starts, so a port in use fails fast, as Kestrel's would.
FrontEndServer? frontEnd = null;
if (settings.FrontEnd == FrontEndKind.EventLoop)
{
    try
    {
        frontEnd = new FrontEndServer(settings);
    }
    catch (IOException ex)
    {
        Console.Error.WriteLine($"paas-router: cannot listen: {ex.Message}");
        return 1;
    }
}

var metrics = new RouterMetrics(settings.AppLatency);
using var loggerFactory = LoggerFactory.Create(logging => logging.AddJsonConsole().AddFilter(level => level >= LogLevel.Information));
CertificateStore? certificates = null;
if (settings.TlsPort != 0)
{
    certificates = new CertificateStore(settings.CertsDir, loggerFactory.CreateLogger<CertificateStore>());
    if (certificates.IsEmpty)
    {
        Console.Error.WriteLine($"paas-router: no certificates in {settings.CertsDir}; TLS port {settings.TlsPort} not opened (deploy/tls/make-cert.sh makes one)");
        certificates = null;
    }
}

var published = new Paas.Router.Tls.PublishedCertificates(settings, metrics, loggerFactory.CreateLogger<Paas.Router.Tls.PublishedCertificates>());
var platformContexts = new Paas.Router.Tls.CertificateContexts();

builder.WebHost.UseSockets(sockets =>
{
    sockets.UnsafePreferInlineScheduling = inlineCompletions == "1";
    // By default Kestrel peeks for a byte before renting a read buffer, then peeks again after the read:
    // two extra system calls per request, which on a virtual machine cost more than the buffer they save.
    sockets.WaitForDataBeforeAllocatingBuffer = false;
});
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    // Body limits are per app and enforced per request (ProxyHandler); none at the server level.
    kestrel.Limits.MaxRequestBodySize = null;
    // Headers: the router answers 431 with its reason header up to its own limit; Kestrel's bare 431
    // only for requests far beyond it.
    kestrel.Limits.MaxRequestHeadersTotalSize = settings.MaxHeaderBytes * 2;
    kestrel.Limits.MaxRequestHeaderCount = 200;
    // Header bytes pass through unchanged in both directions (a proxy has no business re-encoding them);
    // Kestrel's default refuses non-ASCII response header values an app may legitimately send.
    kestrel.RequestHeaderEncodingSelector = _ => System.Text.Encoding.Latin1;
    kestrel.ResponseHeaderEncodingSelector = _ => System.Text.Encoding.Latin1;
    kestrel.Limits.Http2.MaxRequestHeaderFieldSize = Math.Max(kestrel.Limits.Http2.MaxRequestHeaderFieldSize, settings.MaxHeaderBytes * 2);

    void Public(ListenOptions listen) => Counted(listen, HttpProtocols.Http1);

    void Counted(ListenOptions listen, HttpProtocols protocols)
    {
        listen.Protocols = protocols;
        listen.Use(next => async connection =>
        {
            metrics.ConnectionOpened();
            try
            {
                await next(connection);
            }
            finally
            {
                metrics.ConnectionClosed();
            }
        });
    }

    if (frontEnd is not null)
    {
        // Connections the event loops hand over; they count them as open themselves.
        var handoffLogger = loggerFactory.CreateLogger(typeof(ProxyProtocolHandoff));
        kestrel.ListenUnixSocket(frontEnd.HandoffPath, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            listen.Use(ProxyProtocolHandoff.Middleware(handoffLogger));
        });
    }
    else if (settings.BindsAnyAddress)
    {
        kestrel.ListenAnyIP(settings.PublicPort, Public);
    }
    else
    {
        kestrel.Listen(settings.Bind, settings.PublicPort, Public);
    }

    if (certificates is not null)
    {
        void Tls(ListenOptions listen)
        {
            Counted(listen, HttpProtocols.Http1AndHttp2);
            // HTTP/2 or HTTP/1.1 by ALPN; the certificate by SNI: a custom domain's published one (sent with its
            // intermediates, which an ACME certificate needs), else the platform's from the certificates directory.
            listen.UseHttps(new TlsHandshakeCallbackOptions
            {
                OnConnection = context => ValueTask.FromResult(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = published.Select(context.ClientHelloInfo.ServerName) ?? platformContexts.For(certificates.Select(context.ClientHelloInfo.ServerName)!),
                    ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                }),
            });
        }

        if (settings.BindsAnyAddress)
        {
            kestrel.ListenAnyIP(settings.TlsPort, Tls);
        }
        else
        {
            kestrel.Listen(settings.Bind, settings.TlsPort, Tls);
        }
    }

    if (settings.H2cPort != 0)
    {
        void H2c(ListenOptions listen) => Counted(listen, HttpProtocols.Http2);
        if (settings.BindsAnyAddress)
        {
            kestrel.ListenAnyIP(settings.H2cPort, H2c);
        }
        else
        {
            kestrel.Listen(settings.Bind, settings.H2cPort, H2c);
        }
    }

    kestrel.Listen(IPAddress.Loopback, settings.AdminPort);
});

builder.Services.AddSingleton(settings);
builder.Services.AddSingleton(metrics);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<RouteTableStore>();
builder.Services.AddSingleton<BackendInvoker>();
builder.Services.AddSingleton<BackendConnectionMonitor>();
builder.Services.AddSingleton<Http1Forwarder>();
builder.Services.AddSingleton<AppLogFeed>();
builder.Services.AddHostedService(services => services.GetRequiredService<AppLogFeed>());
builder.Services.AddSingleton<AccessLog>();
builder.Services.AddHostedService(services => services.GetRequiredService<AccessLog>());
builder.Services.AddSingleton<IEndpointProbe>(new TcpConnectProbe(TimeSpan.FromMilliseconds(500)));
builder.Services.AddSingleton<SilentCells>();
builder.Services.AddSingleton<TableAcknowledger>();
builder.Services.AddSingleton<CellHeartbeatCheck>();
builder.Services.AddSingleton<RedisEndpointDownPublisher>();
builder.Services.AddSingleton<IEndpointDownPublisher>(services => services.GetRequiredService<RedisEndpointDownPublisher>());
builder.Services.AddSingleton<IRedisConnectionUser>(services => services.GetRequiredService<RedisEndpointDownPublisher>());
builder.Services.AddSingleton<IRedisConnectionUser>(services => services.GetRequiredService<AppLogFeed>());
builder.Services.AddSingleton<TrafficPublisher>();
builder.Services.AddHostedService(services => services.GetRequiredService<TrafficPublisher>());
builder.Services.AddSingleton<IRedisConnectionUser>(services => services.GetRequiredService<TrafficPublisher>());
builder.Services.AddSingleton<RedisRouteSource>();
builder.Services.AddHostedService(services => services.GetRequiredService<RedisRouteSource>());
builder.Services.AddSingleton(published);
builder.Services.AddHostedService(services => services.GetRequiredService<Paas.Router.Tls.PublishedCertificates>());
builder.Services.AddSingleton<PassiveHealth>();
builder.Services.AddSingleton<ProxyHandler>();
builder.Services.AddSingleton<AdminHandler>();
builder.Services.AddHttpForwarder();

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
    frontEnd?.Dispose();
    Console.Error.WriteLine($"paas-router: cannot listen: {ex.Message}");
    return 1;
}

// The event loops accept no connection before the first table is loaded (or the wait is over): until
// then connections queue in the kernel's listen backlog instead of being answered 404. See FirstTableWait.
// (The Kestrel front end has accepted since StartAsync; ProxyHandler holds its requests the same way.)
try
{
    await app.Services.GetRequiredService<RouteTableStore>().FirstTable.WaitAsync(settings.FirstTableWait);
}
catch (TimeoutException)
{
    Console.Error.WriteLine($"paas-router: no route table from Redis within {settings.FirstTableWait.TotalSeconds:0} s; serving an empty one until it comes");
}
frontEnd?.Start(app.Services.GetRequiredService<RouteTableStore>(), app.Services.GetRequiredService<PassiveHealth>(), metrics,
    app.Services.GetRequiredService<AccessLog>(), app.Services.GetRequiredService<ILogger<FrontEndServer>>());

var publicAddress = new IPEndPoint(settings.Bind, settings.PublicPort);
var adminAddress = new IPEndPoint(IPAddress.Loopback, settings.AdminPort);
var tls = certificates is null ? "" : $", https://{new IPEndPoint(settings.Bind, settings.TlsPort)}";
Console.Out.WriteLine($"paas-router listening on http://{publicAddress}{tls} (admin http://{adminAddress}, redis prefix '{settings.RedisPrefix}')");
Console.Out.Flush();

await app.WaitForShutdownAsync();
frontEnd?.Dispose();
return 0;

internal static partial class Program
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
}
