using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using Paas.Core.Tests.Logs;
using Paas.Core.Tls;

namespace Paas.Core.Tests.Tls;

/// <summary>
/// Which certificate a TLS handshake gets: the exact name first, then a wildcard covering one label, then the
/// default (the first loaded, by file name); a changed directory is re-read; unusable files are skipped, not fatal.
/// </summary>
public sealed class CertificateStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("paas-certs-").FullName;
    private readonly TestClock _clock = new(DateTimeOffset.Parse("2026-12-02T12:00:00Z"));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ExactNameBeatsWildcardAndWildcardBeatsTheDefault()
    {
        Write("a-default", "default.example");
        Write("b-wild", "*.apps.example");
        Write("c-exact", "shop.apps.example");
        var store = new CertificateStore(_dir, NullLogger.Instance, _clock);

        Assert.Equal("shop.apps.example", Name(store.Select("shop.apps.example")));
        Assert.Equal("shop.apps.example", Name(store.Select("SHOP.apps.example.")));
        Assert.Equal("*.apps.example", Name(store.Select("blog.apps.example")));
        Assert.Equal("default.example", Name(store.Select("other.example")));
        Assert.Equal("default.example", Name(store.Select(null)));
        Assert.Equal(3, store.Count);
    }

    [Fact]
    public void AWildcardCoversOneLabelOnly()
    {
        Write("a-default", "default.example");
        Write("b-wild", "*.apps.example");
        var store = new CertificateStore(_dir, NullLogger.Instance, _clock);

        Assert.Equal("default.example", Name(store.Select("deep.blog.apps.example")));
        Assert.Equal("default.example", Name(store.Select("apps.example")));
    }

    [Fact]
    public void ACertificateAddedOrRenewedIsServedAfterTheRecheckIntervalWithoutARestart()
    {
        Write("a-default", "default.example");
        var store = new CertificateStore(_dir, NullLogger.Instance, _clock);
        Assert.Equal("default.example", Name(store.Select("new.example")));

        Write("b-new", "new.example");
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("default.example", Name(store.Select("new.example"))); // not yet re-read: at most every 10 s
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal("new.example", Name(store.Select("new.example")));

        var before = store.Select("new.example")!.Thumbprint;
        Write("b-new", "new.example", modified: DateTime.UtcNow.AddMinutes(1));
        _clock.Advance(TimeSpan.FromSeconds(11));
        Assert.NotEqual(before, store.Select("new.example")!.Thumbprint);
    }

    [Fact]
    public void ACertificateWithoutItsKeyOrACorruptFileIsSkippedAndTheRestStillLoad()
    {
        Write("a-keyless", "keyless.example");
        File.Delete(Path.Combine(_dir, "a-keyless.key"));
        File.WriteAllText(Path.Combine(_dir, "b-corrupt.crt"), "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
        File.WriteAllText(Path.Combine(_dir, "b-corrupt.key"), "nope");
        Write("c-good", "good.example");
        var store = new CertificateStore(_dir, NullLogger.Instance, _clock);

        Assert.Equal(1, store.Count);
        Assert.Equal("good.example", Name(store.Select("keyless.example")));
        Assert.False(store.IsEmpty);
    }

    [Fact]
    public void AnEmptyOrMissingDirectoryServesNothing()
    {
        var store = new CertificateStore(Path.Combine(_dir, "missing"), NullLogger.Instance, _clock);

        Assert.True(store.IsEmpty);
        Assert.Null(store.Select("any.example"));
    }

    private static string? Name(X509Certificate2? certificate) =>
        certificate?.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames().Single();

    private void Write(string file, string dnsName, DateTime? modified = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(dnsName);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var crt = Path.Combine(_dir, file + ".crt");
        var pem = Path.Combine(_dir, file + ".key");
        File.WriteAllText(crt, certificate.ExportCertificatePem());
        File.WriteAllText(pem, key.ExportPkcs8PrivateKeyPem());
        if (modified is { } at)
        {
            File.SetLastWriteTimeUtc(crt, at);
            File.SetLastWriteTimeUtc(pem, at);
        }
    }
}
