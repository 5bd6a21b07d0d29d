using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;

namespace Paas.Router.Tls;

/// <summary>
/// One <see cref="SslStreamCertificateContext"/> per platform certificate (from the certificates directory), made once:
/// building the context builds the chain, which is not work for every handshake. A reloaded certificate is a new
/// object and gets its own context; the old one goes with it.
/// </summary>
public sealed class CertificateContexts
{
    private readonly ConditionalWeakTable<X509Certificate2, SslStreamCertificateContext> _contexts = new();

    public SslStreamCertificateContext For(X509Certificate2 certificate) =>
        _contexts.GetValue(certificate, c => SslStreamCertificateContext.Create(c, additionalCertificates: null, offline: true));
}
