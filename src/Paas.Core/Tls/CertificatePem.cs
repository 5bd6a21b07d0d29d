using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Paas.Core.Tls;

/// <summary>Reading a PEM chain and key the way both the controller (checking a user's upload) and the routers (serving it) do.</summary>
public static class CertificatePem
{
    /// <summary>The leaf (first certificate) with the private key attached, and the rest of the chain.</summary>
    public static (X509Certificate2 Leaf, X509Certificate2Collection Intermediates) Load(string chainPem, string keyPem)
    {
        var all = new X509Certificate2Collection();
        all.ImportFromPem(chainPem);
        if (all.Count == 0)
            throw new CryptographicException("The certificate file holds no PEM certificate.");
        using var leafOnly = all[0];
        using var withKey = X509Certificate2.CreateFromPem(leafOnly.ExportCertificatePem(), keyPem);
        // An ephemeral key from PEM cannot be used by SslStream on every platform; a PKCS#12 round trip gives it a usable handle.
        var leaf = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        var intermediates = new X509Certificate2Collection();
        for (var i = 1; i < all.Count; i++)
            intermediates.Add(all[i]);
        return (leaf, intermediates);
    }
}
