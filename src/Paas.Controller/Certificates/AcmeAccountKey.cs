using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Paas.Controller.Certificates;

/// <summary>
/// The ACME account's P-256 key, and what RFC 8555 derives from it: the JWK (RFC 7517) sent with newAccount, its
/// thumbprint (RFC 7638) in every HTTP-01 key authorization, and ES256 signatures (RFC 7518 §3.4: r‖s, 64 bytes).
/// </summary>
public sealed class AcmeAccountKey : IDisposable
{
    private readonly ECDsa _key;

    public AcmeAccountKey(ECDsa key)
    {
        _key = key;
        var p = key.ExportParameters(false);
        Jwk = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["crv"] = "P-256", ["kty"] = "EC", ["x"] = Base64Url(p.Q.X!), ["y"] = Base64Url(p.Q.Y!),
        };
        // RFC 7638: the required members, in lexicographic order, no whitespace.
        Thumbprint = Base64Url(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(Jwk))));
    }

    public static AcmeAccountKey Create() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public static AcmeAccountKey FromPem(string pem)
    {
        var key = ECDsa.Create();
        key.ImportFromPem(pem);
        return new AcmeAccountKey(key);
    }

    public string ExportPem() => _key.ExportPkcs8PrivateKeyPem();

    public IReadOnlyDictionary<string, string> Jwk { get; }

    public string Thumbprint { get; }

    /// <summary>What the router must answer at /.well-known/acme-challenge/TOKEN (RFC 8555 §8.1).</summary>
    public string KeyAuthorization(string token) => token + "." + Thumbprint;

    public byte[] Sign(byte[] data) => _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public static string Base64Url(ReadOnlySpan<byte> data) =>
        Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose() => _key.Dispose();
}
