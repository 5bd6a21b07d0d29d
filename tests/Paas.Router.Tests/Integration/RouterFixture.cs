using Paas.Core.Routing;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using StackExchange.Redis;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// One real router process for a test class, with every optional listener on (TLS with a certificate made
/// here, h2c), the access log in a file and a quick heartbeat check, on a Redis prefix of its own. Tests
/// share it and keep apart by using their own host and app names.
/// </summary>
public sealed class RouterFixture : IAsyncLifetime
{
    public string Prefix { get; } = $"test-{Guid.NewGuid():N}:";

    public string Dir { get; } = Directory.CreateTempSubdirectory("paas-router-test-").FullName;

    public int TlsPort { get; } = RouterProcess.FreePort();

    public int H2cPort { get; } = RouterProcess.FreePort();

    public string AccessLogPath => Path.Combine(Dir, "access.log");

    public ConnectionMultiplexer Redis { get; private set; } = null!;

    public RouterProcess Router { get; private set; } = null!;

    /// <summary>Connects every name to loopback, as browsers do for *.localhost, so URLs can carry the real host (SNI, WebSocket).</summary>
    public static SocketsHttpHandler LoopbackHandler() => new()
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, context.DnsEndPoint.Port, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    public HttpClient Http { get; } = new(LoopbackHandler()) { Timeout = TimeSpan.FromSeconds(20) };

    public IDatabase Db => Redis.GetDatabase();

    public async Task InitializeAsync()
    {
        Redis = await ConnectionMultiplexer.ConnectAsync(RedisTestEnvironment.Configuration + ",connectTimeout=3000");
        // Two certificates, and the one for the apps' names is not the default (the default is the first file by
        // name): a handshake gets *.localhost only when the router reads its SNI.
        WriteWildcardCertificate(Path.Combine(Dir, "certs"), "localhost");
        WriteWildcardCertificate(Path.Combine(Dir, "certs"), "default.invalid", file: "0-default");
        Router = await StartRouterAsync();
    }

    public Task<RouterProcess> StartRouterAsync(IReadOnlyDictionary<string, string>? extra = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["PAAS_ROUTER_TLS_PORT"] = extra is null ? TlsPort.ToString() : "0",
            ["PAAS_ROUTER_H2C_PORT"] = extra is null ? H2cPort.ToString() : "0",
            ["PAAS_ROUTER_CERTS_DIR"] = Path.Combine(Dir, "certs"),
            ["PAAS_ROUTER_ACCESS_LOG"] = extra is null ? AccessLogPath : "off",
            ["PAAS_ROUTER_HEARTBEAT_CHECK_SECONDS"] = "0.2",
            // A reconnect (a busy machine can make the multiplexer reconnect) forgives missing keys this long.
            ["PAAS_ROUTER_HEARTBEAT_GRACE_SECONDS"] = "1",
            ["PAAS_ROUTER_COOLDOWN_SECONDS"] = "30",
        };
        foreach (var (name, value) in extra ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        return RouterProcess.StartAsync(RedisTestEnvironment.Configuration, Prefix, environment);
    }

    public async Task DisposeAsync()
    {
        await Router.DisposeAsync();
        await Db.KeyDeleteAsync([Prefix + "hosts", Prefix + "routes", Prefix + "app-options", Prefix + "routes:version"]);
        await Redis.DisposeAsync();
        Http.Dispose();
        Directory.Delete(Dir, recursive: true);
    }

    /// <summary>Writes through the controller's own path: hash, version counter and change message.</summary>
    public RouteWriter Routes => new(Redis, new RouteKeys(Prefix));

    public Task SetHostAsync(string host, string app) => Routes.SetHostAsync(host, app);

    public Task SetRouteAsync(string instance, string app, string address, string? cell = null) =>
        Routes.SetRouteAsync(instance, cell is null
            ? JsonSerializer.Serialize(new { instance, app, process = "web", release = 1, address })
            : JsonSerializer.Serialize(new { instance, app, process = "web", release = 1, address, cell }));

    public Task DeleteRouteAsync(string instance) => Routes.RemoveRouteAsync(instance);

    public Task SetOptionsAsync(string app, object options) => Routes.SetAppOptionsAsync(app, JsonSerializer.Serialize(options));

    /// <summary>Waits until the router's /routes lists <paramref name="count"/> endpoints under the host.</summary>
    public async Task<JsonElement> WaitForEndpointsAsync(string host, int count, RouterProcess? router = null, double seconds = 5)
    {
        router ??= Router;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (true)
        {
            using var routes = JsonDocument.Parse(await Http.GetStringAsync(new Uri(router.AdminUrl, "routes")));
            if (routes.RootElement.GetProperty("hosts").TryGetProperty(host, out var entry)
                && entry.GetProperty("endpoints").GetArrayLength() == count)
            {
                return entry.Clone();
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new Xunit.Sdk.XunitException($"{host} never reached {count} endpoints: {routes.RootElement}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Waits until the app's options have reached the router (visible by their effect: a probe request).</summary>
    public async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new Xunit.Sdk.XunitException($"Never happened: {what}");
            }

            await Task.Delay(25);
        }
    }

    public HttpRequestMessage Request(HttpMethod method, string host, string path = "/", RouterProcess? router = null)
    {
        var request = new HttpRequestMessage(method, new Uri((router ?? Router).PublicUrl, path));
        request.Headers.Host = host;
        return request;
    }

    public async Task<HttpResponseMessage> GetAsync(string host, string path = "/", RouterProcess? router = null)
    {
        using var request = Request(HttpMethod.Get, host, path, router);
        return await Http.SendAsync(request);
    }

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values)
        : response.Content.Headers.TryGetValues(name, out var content) ? string.Join(",", content) : null;

    private static void WriteWildcardCertificate(string directory, string domain, string? file = null)
    {
        Directory.CreateDirectory(directory);
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN=*.{domain}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName($"*.{domain}");
        names.AddDnsName(domain);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(Path.Combine(directory, (file ?? domain) + ".crt"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, (file ?? domain) + ".key"), key.ExportPkcs8PrivateKeyPem());
    }
}
