using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using Paas.Controller.Certificates;
using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Tls;
using StackExchange.Redis;

namespace Paas.Controller.Tests.Certificates;

/// <summary>
/// Renewal and retries of automatic certificates, on a clock the test moves: a pass orders a certificate when the
/// domain has none, again 30 days before expiry (not earlier), and after a failure only when the backoff is over,
/// never touching the certificate being served. The certificates go through the real Redis publisher and are read
/// back as the routers read them.
/// </summary>
public sealed class CertificateManagerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string Redis = Environment.GetEnvironmentVariable("PAAS_REDIS") is { Length: > 0 } r ? r : "127.0.0.1:6379";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "paas-certs-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly string _prefix = "certs-test-" + Guid.NewGuid().ToString("N")[..8] + ":";
    private readonly ManualTime _time = new(Start);
    private readonly FakeIssuer _issuer;
    private ConnectionMultiplexer _redis = null!;
    private TlsPublisher _tls = null!;
    private PlatformDatabase _db = null!;
    private CertificateManager _manager = null!;

    public CertificateManagerTests() => _issuer = new FakeIssuer(_time);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        _redis = await ConnectionMultiplexer.ConnectAsync(Redis);
        _tls = new TlsPublisher(_redis, new TlsKeys(_prefix), KeySealer.ForRedis(Redis));
        var file = new SqliteFile(Path.Combine(_dir, "paas.db"));
        _db = new PlatformDatabase(file, _time);
        var domains = new DomainStore(file, _time);
        _db.TryCreateApp("shop", "alice", out _);
        domains.TryAdd("shop", "www.shop.example", out _);
        await _tls.SetAutoAsync("shop", true);
        _manager = new CertificateManager(_issuer, _tls, _db, domains, new PaasSettings(), _time, NullLogger<CertificateManager>.Instance);
    }

    public async Task DisposeAsync()
    {
        var server = _redis.GetServer(_redis.GetEndPoints()[0]);
        foreach (var key in server.Keys(pattern: _prefix + "*"))
            await _redis.GetDatabase().KeyDeleteAsync(key);
        _redis.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<string> ServedSerialAsync()
    {
        var published = await _tls.FindAsync("www.shop.example");
        Assert.NotNull(published);
        // As a router loads it: the sealed key opens and matches the certificate.
        return published.LoadContext(KeySealer.ForRedis(Redis)).TargetCertificate.SerialNumber;
    }

    [Fact]
    public async Task Pass_IssuesOnce_ThenRenewsThirtyDaysBeforeExpiry_NotEarlier()
    {
        await _manager.PassAsync(default);
        var first = await ServedSerialAsync();
        Assert.Equal(1, _issuer.Issued);

        _time.Advance(TimeSpan.FromDays(59));
        await _manager.PassAsync(default);
        Assert.Equal(1, _issuer.Issued);
        Assert.Equal(first, await ServedSerialAsync());

        _time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1)); // 29 days and 23 hours before the 90-day expiry
        await _manager.PassAsync(default);

        Assert.Equal(2, _issuer.Issued);
        Assert.NotEqual(first, await ServedSerialAsync());
        Assert.Equal(CertificateStatus.Issued, (await _tls.StatusAsync("www.shop.example"))!.State);
        Assert.Contains(_db.Events("shop", 10), e => e.Message.StartsWith("Renewed the certificate for www.shop.example"));
    }

    [Fact]
    public async Task FailedRenewal_KeepsTheServedCertificate_AndRetriesOnlyAfterTheBackoff()
    {
        await _manager.PassAsync(default);
        var served = await ServedSerialAsync();
        _time.Advance(TimeSpan.FromDays(61));
        _issuer.Failure = "The ACME server could not validate www.shop.example: connection refused.";

        await _manager.PassAsync(default);

        var status = (await _tls.StatusAsync("www.shop.example"))!;
        Assert.Equal((CertificateStatus.Failed, _issuer.Failure, 1), (status.State, status.Error, status.Attempts));
        Assert.Equal(_time.GetUtcNow() + RenewalPolicy.FirstRetry, status.NextAttempt);
        Assert.Equal(served, await ServedSerialAsync());
        Assert.Contains(_db.Events("shop", 10), e => e.Message == "No certificate for www.shop.example: " + _issuer.Failure);

        _time.Advance(TimeSpan.FromSeconds(30));
        await _manager.PassAsync(default);
        Assert.Equal(2, _issuer.Attempts);

        _time.Advance(TimeSpan.FromSeconds(31));
        await _manager.PassAsync(default);
        Assert.Equal(3, _issuer.Attempts);
        Assert.Equal(2, (await _tls.StatusAsync("www.shop.example"))!.Attempts);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMinutes(2), (await _tls.StatusAsync("www.shop.example"))!.NextAttempt);

        _issuer.Failure = null;
        _time.Advance(TimeSpan.FromMinutes(2));
        await _manager.PassAsync(default);
        Assert.NotEqual(served, await ServedSerialAsync());
        Assert.Equal((CertificateStatus.Issued, null), ((await _tls.StatusAsync("www.shop.example"))!.State, (await _tls.StatusAsync("www.shop.example"))!.Error));
    }

    [Fact]
    public async Task AUsersOwnCertificate_IsNeverReplaced()
    {
        var own = _issuer.Make("www.shop.example");
        await _tls.PublishAsync("www.shop.example", "shop", own.ChainPem, own.KeyPem, PublishedCertificate.User, own.NotAfter);
        _time.Advance(TimeSpan.FromDays(89));

        await _manager.PassAsync(default);

        Assert.Equal(0, _issuer.Attempts);
        Assert.Equal(PublishedCertificate.User, (await _tls.FindAsync("www.shop.example"))!.Source);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(4, 8)]
    [InlineData(20, 360)]
    public void Backoff_DoublesFromAMinute_UpToSixHours(int failures, int minutes) =>
        Assert.Equal(TimeSpan.FromMinutes(minutes), RenewalPolicy.Backoff(failures));

    /// <summary>Self-signed certificates valid for 90 days from the test's clock, or the failure it is told to give.</summary>
    private sealed class FakeIssuer(TimeProvider time) : ICertificateIssuer
    {
        public int Attempts { get; private set; }
        public int Issued { get; private set; }
        public string? Failure { get; set; }

        public Task<IssuedCertificate> IssueAsync(string hostname, CancellationToken cancel)
        {
            Attempts++;
            if (Failure is not null)
                throw new AcmeException(Failure);
            Issued++;
            return Task.FromResult(Make(hostname));
        }

        public IssuedCertificate Make(string hostname)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=" + hostname, key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName(hostname);
            request.CertificateExtensions.Add(names.Build());
            var now = time.GetUtcNow();
            using var certificate = request.CreateSelfSigned(now, now.AddDays(90));
            return new IssuedCertificate(certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), now.AddDays(90));
        }
    }
}
