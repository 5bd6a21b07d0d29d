using System.Net;
using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// HTTPS for custom domains with certificates from a real ACME server: pebble on loopback, whose validation authority
/// fetches the HTTP-01 challenge from the router's public port (names resolved by pebble's DNS stand-in), then curl
/// checks the router's certificate for the domain against pebble's root, by SNI.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AcmeCertificateTests(PlatformFixture platform)
{
    [Fact]
    public async Task CertsAutoEnable_ObtainsACertificateFromTheAcmeServer_ServedBySni_AndAFailedChallengeIsOneSentenceWithHttpStillServing()
    {
        var app = await AppUnderTest.PushedAsync(platform, "acme", "python");
        var suffix = app.Name[^6..];
        var good = $"www.acme-{suffix}.example.com";
        var bad = $"elsewhere-{suffix}.example.com";
        AppUnderTest.Must(await app.PaasAsync("domains:add", good));
        AppUnderTest.Must(await app.PaasAsync("domains:add", bad));
        using var pebble = await PebbleAcme.StartAsync(Path.Combine(platform.DataDirectory, "pebble-" + suffix), platform.RouterPort);
        // The bad domain's DNS points where no router listens: pebble's fetch of the challenge is refused.
        await pebble.ResolveAsync(bad, "127.0.0.2");
        platform.StopController();
        await platform.StartControllerAsync(new Dictionary<string, string>
        {
            ["PAAS_ACME_DIRECTORY"] = pebble.DirectoryUrl,
            ["PAAS_ACME_CA_FILE"] = pebble.ListenerCaFile,
        });
        try
        {
            var enabled = await app.PaasAsync("certs:auto:enable");
            Assert.True(enabled.ExitCode == 0, enabled.ToString());

            var rows = await WaitForCertsAsync(app, r => r[good].GetProperty("state").GetString() == "issued"
                && r[bad].GetProperty("state").GetString() == "failed", pebble);

            // The good domain: a certificate pebble issued, served by SNI, that curl accepts with pebble's root only.
            var root = Path.Combine(platform.DataDirectory, $"pebble-root-{suffix}.pem");
            await File.WriteAllTextAsync(root, await pebble.RootPemAsync());
            // "issued" is stored before the routers have loaded it (by notification): a bounded retry, as for certs:add.
            var curl = await TestCertificates.CurlThroughRouterAsync(platform.RouterTlsPort, good, root, maxTimeSeconds: 10);
            Assert.True(curl.ExitCode == 0, curl + "\n" + pebble.Output);
            Assert.StartsWith("Hello from python", curl.Stdout);
            Assert.Equal("acme", rows[good].GetProperty("source").GetString());
            Assert.True(rows[good].GetProperty("not_after").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddDays(30));

            var metrics = await platform.Http.GetStringAsync($"http://127.0.0.1:{platform.RouterAdminPort}/metrics");
            Assert.Matches(@"paas_router_acme_challenges_answered_total [1-9]", metrics);
            Assert.Matches(@"paas_router_published_certificates [1-9]", metrics);
            Assert.Contains("paas_controller_certificates_issued_total 1\n", await platform.Http.GetStringAsync($"{platform.ApiUrl}/metrics"));

            // The bad domain: one sentence saying why, and plain HTTP still serves the app there.
            var error = rows[bad].GetProperty("error").GetString()!;
            Assert.Contains($"could not validate {bad}", error);
            Assert.DoesNotContain('\n', error);
            Assert.EndsWith(".", error);
            var listed = AppUnderTest.Must(await app.PaasAsync("certs"));
            Assert.Contains(error, listed.Stdout);
            using (var http = await platform.GetThroughRouterAsync(bad))
                Assert.Equal(HttpStatusCode.OK, http.StatusCode);
            // Without a certificate of its own the domain is not served pebble's: curl refuses the platform's.
            var refused = await ProcessRunner.RunAsync("curl", ["-sS", "--max-time", "10", "--cacert", root,
                "--resolve", $"{bad}:{platform.RouterTlsPort}:127.0.0.1", $"https://{bad}:{platform.RouterTlsPort}/"], null, new Dictionary<string, string>(), TimeSpan.FromSeconds(20));
            Assert.NotEqual(0, refused.ExitCode);
            var events = AppUnderTest.Must(await app.PaasAsync("events"));
            Assert.Contains($"Issued the certificate for {good}", events.Stdout);
        }
        finally
        {
            await app.PaasAsync("certs:auto:disable");
            platform.StopController();
            await platform.StartControllerAsync();
        }
    }

    [Fact]
    public async Task CertsAdd_ServesTheUsersCertificateBySniWithoutARestart_AndAKeyThatDoesNotMatchIsOneSentence()
    {
        var app = await AppUnderTest.PushedAsync(platform, "owncert", "python");
        var host = $"shop-{app.Name[^6..]}.example.net";
        AppUnderTest.Must(await app.PaasAsync("domains:add", host));
        var dir = Path.Combine(platform.DataDirectory, "own-" + app.Name);
        var (crt, key) = await TestCertificates.SelfSignedAsync(dir, host);
        var otherKey = Path.Combine(dir, "other.key");
        using (var other = System.Security.Cryptography.RSA.Create(2048))
            await File.WriteAllTextAsync(otherKey, other.ExportPkcs8PrivateKeyPem());

        var mismatched = await app.PaasAsync("certs:add", crt, otherKey);
        var added = await app.PaasAsync("certs:add", crt, key);

        Assert.Equal(1, mismatched.ExitCode);
        Assert.Contains("The certificate and key cannot be used together", mismatched.Stderr);
        Assert.Single(mismatched.Stderr.Trim().Split('\n'));
        Assert.True(added.ExitCode == 0, added.ToString());
        Assert.Contains($"done: {host}, expires", added.Stdout);
        // The router picks it up from Redis by notification: no restart, within a bounded wait.
        var curl = await TestCertificates.CurlThroughRouterAsync(platform.RouterTlsPort, host, crt);
        Assert.True(curl.ExitCode == 0, curl.ToString());
        Assert.StartsWith("Hello from python", curl.Stdout);
        var listed = AppUnderTest.Must(await app.PaasAsync("certs"));
        Assert.Contains(host, listed.Stdout);
        Assert.Contains("user", listed.Stdout);
        Assert.Contains($"expires {DateTimeOffset.UtcNow.Add(TestCertificates.Validity):yyyy-MM-dd}", listed.Stdout);

        // HTTP to HTTPS: a 308 to the same path and query on the TLS port, until turned off; challenges are not redirected.
        AppUnderTest.Must(await app.PaasAsync("certs:redirect:enable"));
        using var noFollow = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false });
        Task<HttpResponseMessage> GetAsync(string path)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{platform.RouterPort}{path}");
            request.Headers.Host = host;
            return noFollow.SendAsync(request);
        }
        using (var redirected = await GetAsync("/a/b?c=d"))
        {
            Assert.Equal(HttpStatusCode.PermanentRedirect, redirected.StatusCode);
            Assert.Equal($"https://{host}:{platform.RouterTlsPort}/a/b?c=d", redirected.Headers.Location?.ToString());
        }
        using (var challenge = await GetAsync("/.well-known/acme-challenge/not-the-platforms"))
            Assert.NotEqual(HttpStatusCode.PermanentRedirect, challenge.StatusCode);
        AppUnderTest.Must(await app.PaasAsync("certs:redirect:disable"));
        using (var plain = await platform.GetThroughRouterAsync(host))
            Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
    }

    /// <summary>Polls <c>paas certs --json</c> (bounded, 90 s) until the rows, by hostname, meet the condition.</summary>
    private static async Task<Dictionary<string, JsonElement>> WaitForCertsAsync(AppUnderTest app, Func<Dictionary<string, JsonElement>, bool> done, PebbleAcme pebble)
    {
        var rows = new Dictionary<string, JsonElement>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            var listed = AppUnderTest.Must(await app.PaasAsync("certs", "--json"));
            rows = JsonDocument.Parse(listed.Stdout).RootElement.GetProperty("certificates").EnumerateArray()
                .ToDictionary(r => r.GetProperty("hostname").GetString()!, r => r.Clone());
            if (done(rows))
                return rows;
            await Task.Delay(250);
        }
        throw new TimeoutException($"Certificates did not settle: {JsonSerializer.Serialize(rows)}\n{pebble.Output}");
    }
}
