using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Paas.Core.Configuration;

namespace Paas.Controller.Certificates;

/// <summary>
/// HTTP-01 issuance from the configured ACME directory (<c>PAAS_ACME_DIRECTORY</c>): one account per platform and
/// directory (its key sealed in Redis), one order per hostname, the key authorization put where every router answers
/// it (<see cref="TlsPublisher.PutChallengeAsync"/>) before the server is told to validate, and a new P-256 key per certificate.
/// </summary>
public sealed class AcmeIssuer : ICertificateIssuer, IDisposable
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(90);
    private readonly Lazy<HttpClient> _http;
    private readonly PaasSettings _settings;
    private readonly TlsPublisher _publisher;
    private readonly TimeProvider _time;
    private readonly ILogger<AcmeIssuer> _logger;
    private readonly SemaphoreSlim _accountLock = new(1, 1);
    private AcmeClient? _client;

    public AcmeIssuer(PaasSettings settings, TlsPublisher publisher, TimeProvider time, ILogger<AcmeIssuer> logger)
    {
        _settings = settings;
        _publisher = publisher;
        _time = time;
        _logger = logger;
        // Made at the first order, so a bad PAAS_ACME_CA_FILE is that order's one-sentence failure, not a controller that cannot start.
        _http = new Lazy<HttpClient>(() =>
        {
            var http = new HttpClient(Handler(settings.AcmeCaFile)) { Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.UserAgent.ParseAdd("paas-acme/1");
            return http;
        });
    }

    /// <summary>The system's roots, or only the CAs in <c>PAAS_ACME_CA_FILE</c> (a test server's own).</summary>
    private static SocketsHttpHandler Handler(string? caFile)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (caFile is null)
            return handler;
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(caFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new AcmeException($"PAAS_ACME_CA_FILE {caFile} cannot be read as PEM certificates: {ex.Message.TrimEnd('.')}.");
        }
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is null)
                return false;
            if (errors == System.Net.Security.SslPolicyErrors.None)
                return true;
            if ((errors & System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(certificate));
        };
        return handler;
    }

    public async Task<IssuedCertificate> IssueAsync(string hostname, CancellationToken cancel)
    {
        try
        {
            return await IssueCoreAsync(hostname, cancel);
        }
        catch (HttpRequestException ex)
        {
            throw new AcmeException($"The ACME directory {_settings.AcmeDirectory} cannot be reached: {ex.Message}");
        }
        catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new AcmeException($"The ACME directory {_settings.AcmeDirectory} did not answer in time.");
        }
    }

    private async Task<IssuedCertificate> IssueCoreAsync(string hostname, CancellationToken cancel)
    {
        var client = await ClientAsync(cancel);
        var (orderUrl, order) = await client.NewOrderAsync([hostname], cancel);
        var tokens = new List<string>();
        try
        {
            foreach (var authorizationUrl in order["authorizations"]!.AsArray().Select(a => a!.GetValue<string>()))
            {
                var authorization = await client.GetAsync(authorizationUrl, cancel);
                if (authorization["status"]?.GetValue<string>() == "valid")
                    continue;
                var challenge = authorization["challenges"]?.AsArray().OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == "http-01")
                    ?? throw new AcmeException($"The ACME server offers no HTTP-01 challenge for {hostname}.");
                var token = challenge["token"]!.GetValue<string>();
                tokens.Add(token);
                await _publisher.PutChallengeAsync(token, client.Key.KeyAuthorization(token));
                await client.RespondAsync(challenge["url"]!.GetValue<string>(), cancel);
                var done = await client.PollAsync(authorizationUrl, ["pending", "processing"], StepTimeout, cancel);
                if (done["status"]?.GetValue<string>() != "valid")
                    throw new AcmeException(ChallengeFailure(hostname, done));
            }

            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=" + hostname, key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName(hostname);
            request.CertificateExtensions.Add(names.Build());
            order = await client.FinalizeAsync(order["finalize"]!.GetValue<string>(), request.CreateSigningRequest(), cancel);
            if (order["status"]?.GetValue<string>() is "pending" or "ready" or "processing")
                order = await client.PollAsync(orderUrl, ["pending", "ready", "processing"], StepTimeout, cancel);
            var certificateUrl = order["certificate"]?.GetValue<string>()
                ?? throw new AcmeException($"The ACME order for {hostname} ended {order["status"]} without a certificate.");
            var chain = await client.DownloadCertificateAsync(certificateUrl, cancel);
            using var leaf = X509Certificate2.CreateFromPem(chain);
            _logger.LogInformation("Issued a certificate for {Hostname} by {Issuer}, valid until {NotAfter:O}", hostname, leaf.Issuer, leaf.NotAfter);
            return new IssuedCertificate(chain, key.ExportPkcs8PrivateKeyPem(), new DateTimeOffset(leaf.NotAfter.ToUniversalTime()));
        }
        finally
        {
            foreach (var token in tokens)
                await _publisher.RemoveChallengeAsync(token);
        }
    }

    /// <summary>Why validation failed, as the server put it (e.g. the fetch of the challenge URL timed out, or got a 404).</summary>
    private static string ChallengeFailure(string hostname, JsonObject authorization)
    {
        var error = authorization["challenges"]?.AsArray().OfType<JsonObject>()
            .Select(c => c["error"] as JsonObject).FirstOrDefault(e => e is not null);
        var detail = error?["detail"]?.GetValue<string>();
        return AcmeClient.Sentence($"The ACME server could not validate {hostname}" + (detail is null ? $" (authorization {authorization["status"]})" : $": {detail}"));
    }

    private async Task<AcmeClient> ClientAsync(CancellationToken cancel)
    {
        await _accountLock.WaitAsync(cancel);
        try
        {
            if (_client is not null)
                return _client;
            var directory = new Uri(_settings.AcmeDirectory);
            var stored = await _publisher.AccountAsync(_settings.AcmeDirectory);
            // The stored key is registered again once per process: newAccount answers a known key with its URL, and a
            // directory that forgot the account (a test server restarted) makes it anew for the same key.
            var key = stored is null ? AcmeAccountKey.Create() : AcmeAccountKey.FromPem(_publisher.Sealer.Open(stored.SealedKey));
            var client = new AcmeClient(_http.Value, directory, key, _time);
            var url = await client.RegisterAsync(_settings.AcmeEmail, cancel);
            await _publisher.SaveAccountAsync(_settings.AcmeDirectory, new TlsPublisher.StoredAccount(_publisher.Sealer.Seal(client.Key.ExportPem()), url));
            _logger.LogInformation("Registered the platform's ACME account at {Directory}", _settings.AcmeDirectory);
            return _client = client;
        }
        finally
        {
            _accountLock.Release();
        }
    }

    public void Dispose()
    {
        if (_http.IsValueCreated)
            _http.Value.Dispose();
    }
}
