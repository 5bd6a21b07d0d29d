using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Certificates a user brings (`certs:add`, Heroku's sni-endpoints) and the check a user makes of them: curl over HTTPS
/// to the router by SNI, trusting only the given CA file.
/// </summary>
public static class TestCertificates
{
    /// <summary>How long <see cref="SelfSignedAsync"/>'s certificates are valid, so tests can check the listed expiry.</summary>
    public static readonly TimeSpan Validity = TimeSpan.FromDays(60);

    /// <summary>A self-signed certificate for <paramref name="host"/> (its name in CN and SAN) and its key, written as PEM files into <paramref name="directory"/>.</summary>
    public static async Task<(string Crt, string Key)> SelfSignedAsync(string directory, string host)
    {
        Directory.CreateDirectory(directory);
        var (crt, key) = (Path.Combine(directory, "server.crt"), Path.Combine(directory, "server.key"));
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=" + host, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(host);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.Add(Validity));
        await File.WriteAllTextAsync(crt, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(key, rsa.ExportPkcs8PrivateKeyPem());
        return (crt, key);
    }

    /// <summary>
    /// curl https://HOST/ through the router's TLS port, trusting only <paramref name="caFile"/>. A new certificate is stored
    /// before the routers load it (by notification), so this retries a bounded time until curl succeeds; the last result.
    /// </summary>
    public static async Task<ProcessResult> CurlThroughRouterAsync(int routerTlsPort, string host, string caFile, int maxTimeSeconds = 5)
    {
        ProcessResult curl = new(1, "", "");
        for (var i = 0; i < 50 && curl.ExitCode != 0; i++)
        {
            if (i > 0)
                await Task.Delay(100);
            curl = await ProcessRunner.RunAsync("curl", ["-sS", "--max-time", maxTimeSeconds.ToString(), "--cacert", caFile,
                "--resolve", $"{host}:{routerTlsPort}:127.0.0.1", $"https://{host}:{routerTlsPort}/"], null, new Dictionary<string, string>(), TimeSpan.FromSeconds(2 * maxTimeSeconds));
        }
        return curl;
    }
}
