using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Let's Encrypt's test server, Debian's <c>pebble</c>, on loopback, with its DNS stand-in <c>pebble-challtestsrv</c>
/// (every name resolves to 127.0.0.1 unless told otherwise). Pebble's validation authority really fetches each HTTP-01
/// challenge over HTTP from <paramref name="httpPort"/>: the router's public port. Its ACME listener has a certificate
/// made here (<see cref="ListenerCaFile"/>); the certificates it issues chain to a root fetched from its management port
/// (<see cref="RootPemAsync"/>), new at each start.
/// </summary>
public sealed class PebbleAcme : IDisposable
{
    private readonly LiveProcess _dns;
    private readonly LiveProcess _pebble;
    private readonly int _dnsManagementPort = FreePort.Next();
    private readonly int _acmePort = FreePort.Next();
    private readonly int _managementPort = FreePort.Next();

    private PebbleAcme(string directory, int httpPort)
    {
        Directory.CreateDirectory(directory);
        ListenerCaFile = Path.Combine(directory, "listener.crt");
        var listenerKey = Path.Combine(directory, "listener.key");
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var request = new CertificateRequest("CN=pebble listener", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            File.WriteAllText(ListenerCaFile, certificate.ExportCertificatePem());
            File.WriteAllText(listenerKey, key.ExportPkcs8PrivateKeyPem());
        }
        var config = Path.Combine(directory, "pebble.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new
        {
            pebble = new
            {
                listenAddress = $"127.0.0.1:{_acmePort}",
                managementListenAddress = $"127.0.0.1:{_managementPort}",
                certificate = ListenerCaFile,
                privateKey = listenerKey,
                httpPort,
                tlsPort = FreePort.Next(),
                ocspResponderURL = "",
                externalAccountBindingRequired = false,
            },
        }));
        var dnsPort = FreePort.Next();
        _dns = new LiveProcess("pebble-challtestsrv",
            ["-dns01", $"127.0.0.1:{dnsPort}", "-http01", "", "-https01", "", "-tlsalpn01", "", "-management", $"127.0.0.1:{_dnsManagementPort}",
             "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""], directory, new Dictionary<string, string>());
        _pebble = new LiveProcess("pebble", ["-config", config, "-dnsserver", $"127.0.0.1:{dnsPort}"], directory, new Dictionary<string, string>
        {
            // No artificial delays before validating, and no nonces rejected at random: the test waits less.
            ["PEBBLE_VA_NOSLEEP"] = "1",
            ["PEBBLE_WFE_NONCEREJECT"] = "0",
        });
    }

    public string DirectoryUrl => $"https://127.0.0.1:{_acmePort}/dir";

    public string ListenerCaFile { get; }

    public static async Task<PebbleAcme> StartAsync(string directory, int httpPort)
    {
        foreach (var program in new[] { "pebble", "pebble-challtestsrv" })
        {
            if (Requirements.FindProgram(program) is null)
                throw new InvalidOperationException($"The ACME tests need `{program}`: install the Debian package pebble (`make test` does, through deploy/setup.sh).");
        }
        var pebble = new PebbleAcme(directory, httpPort);
        // Pebble logs to stderr; its directory answering is the sign it is ready.
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var response = await http.GetAsync(pebble.DirectoryUrl);
                if (response.IsSuccessStatusCode)
                    return pebble;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        var output = pebble.Output;
        pebble.Dispose();
        throw new InvalidOperationException($"pebble did not start within 10 s: {output}");
    }

    /// <summary>Makes the DNS stand-in answer <paramref name="host"/> with <paramref name="address"/> (where no router listens, say).</summary>
    public async Task ResolveAsync(string host, string address)
    {
        using var http = new HttpClient();
        var body = JsonSerializer.Serialize(new { host, addresses = new[] { address } });
        using var response = await http.PostAsync($"http://127.0.0.1:{_dnsManagementPort}/add-a", new StringContent(body));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The root the issued certificates chain to (PEM), as a client that trusts pebble would install it.</summary>
    public async Task<string> RootPemAsync()
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler);
        return await http.GetStringAsync($"https://127.0.0.1:{_managementPort}/roots/0");
    }

    public string Output => "pebble:\n" + _pebble.Output + "\nchalltestsrv:\n" + _dns.Output;

    public void Dispose()
    {
        _pebble.Dispose();
        _dns.Dispose();
    }
}
