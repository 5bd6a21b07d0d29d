using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Serialization;

namespace Paas.Core.Tls;

/// <summary>
/// A certificate as published for the routers: the PEM chain (leaf first) and the private key sealed by
/// <see cref="KeySealer"/>, so the key is never in Redis (nor its dumps and replicas) in the clear.
/// </summary>
public sealed record PublishedCertificate(
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("chain_pem")] string ChainPem,
    [property: JsonPropertyName("sealed_key")] string SealedKey,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("not_after")] DateTimeOffset NotAfter)
{
    public const string Acme = "acme";
    public const string User = "user";

    /// <summary>The leaf with its private key and the intermediates, ready for a TLS handshake that sends the whole chain.</summary>
    public SslStreamCertificateContext LoadContext(KeySealer sealer)
    {
        var (leaf, intermediates) = CertificatePem.Load(ChainPem, sealer.Open(SealedKey));
        return SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
    }
}

/// <summary>Where automatic issuance stands for one hostname; <see cref="Error"/> is one sentence a user can act on.</summary>
public sealed record CertificateStatus(
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("next_attempt")] DateTimeOffset? NextAttempt,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt)
{
    public const string Pending = "pending";
    public const string Issued = "issued";
    public const string Failed = "failed";
}
