namespace Paas.Controller.Certificates;

/// <summary>A certificate and its key, as PEM, with the moment it expires.</summary>
public sealed record IssuedCertificate(string ChainPem, string KeyPem, DateTimeOffset NotAfter);

/// <summary>Obtains a certificate for one hostname; <see cref="AcmeIssuer"/> from an ACME directory, fakes in tests.</summary>
public interface ICertificateIssuer
{
    /// <summary>Throws <see cref="AcmeException"/> with one sentence when the certificate cannot be had.</summary>
    Task<IssuedCertificate> IssueAsync(string hostname, CancellationToken cancel);
}
