namespace Paas.Core.Tls;

/// <summary>
/// Redis keys that carry custom domains' certificates from the controller to every router, and the HTTP-01
/// challenges the routers answer. Under the platform's prefix, like <see cref="Paas.Core.Routing.RouteKeys"/>.
/// Redis is the channel because every router already reads it: a router on another host serves a certificate
/// the moment it is published, without a shared disk or a restart.
/// </summary>
public sealed record TlsKeys(string Prefix)
{
    /// <summary>Hash: hostname → <see cref="PublishedCertificate"/> JSON (chain PEM and the sealed private key).</summary>
    public string Certificates => Prefix + "tls:certs";

    /// <summary>Channel: the hostname whose certificate was published or removed (routers reload the hash).</summary>
    public string Changes => Prefix + "tls:changes";

    /// <summary>Hash: hostname → <see cref="CertificateStatus"/> JSON: how automatic issuance stands (issued, pending, failed and why).</summary>
    public string Status => Prefix + "tls:status";

    /// <summary>Set: apps whose domains get certificates from the ACME directory (<c>paas certs:auto:enable</c>).</summary>
    public string AutoApps => Prefix + "tls:auto";

    /// <summary>String: the ACME account (its sealed key and URL), one per platform and directory.</summary>
    public string Account(string directory) => Prefix + "tls:acme-account:" + directory;

    /// <summary>String with a TTL: the key authorization for an HTTP-01 token, answered at <c>/.well-known/acme-challenge/TOKEN</c>.</summary>
    public string Challenge(string token) => Prefix + "tls:challenge:" + token;

    public const string ChallengePath = "/.well-known/acme-challenge/";
}
