using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Serialization;
using Paas.Controller.Certificates;
using Paas.Controller.State;
using Paas.Core.Tls;

namespace Paas.Controller.Api;

/// <summary>
/// HTTPS for custom domains: the certificate each domain is served with (the user's own, or one the platform
/// obtains from the ACME directory), its expiry, and where automatic issuance stands.
/// </summary>
public static class CertsEndpoints
{
    public sealed record AddCertRequest(
        [property: JsonPropertyName("certificate")] string? Certificate,
        [property: JsonPropertyName("private_key")] string? PrivateKey);

    public static void MapCertsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/apps/{name}/certs", ListAsync)
            .WithName("listCerts").WithSummary("The certificate of each custom domain, its expiry and automatic issuance state");
        api.MapPost("/apps/{name}/certs", AddAsync)
            .WithName("addCert").WithSummary("Serve the app's domains that a PEM certificate covers with it");
        api.MapPost("/apps/{name}/certs/auto", EnableAutoAsync)
            .WithName("enableAutoCerts").WithSummary("Obtain and renew certificates for the app's domains from the ACME directory");
        api.MapDelete("/apps/{name}/certs/auto", DisableAutoAsync)
            .WithName("disableAutoCerts").WithSummary("Stop renewing the app's certificates (those served stay until they expire)");
    }

    private static async Task<IResult> ListAsync(string name, IStateStore db, IDomainStore domains, TlsPublisher tls)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        return Results.Json(await DescribeAsync(name, domains, tls));
    }

    public static async Task<object> DescribeAsync(string app, IDomainStore domains, TlsPublisher tls)
    {
        var rows = new List<object>();
        foreach (var domain in domains.ListForApp(app))
        {
            var certificate = await tls.FindAsync(domain.Hostname);
            var status = await tls.StatusAsync(domain.Hostname);
            rows.Add(new
            {
                hostname = domain.Hostname,
                source = certificate?.Source,
                not_after = certificate?.NotAfter,
                state = status?.State ?? (certificate is null ? "none" : CertificateStatus.Issued),
                error = status?.Error,
                next_attempt = status?.NextAttempt,
            });
        }
        return new { app, auto = await tls.IsAutoAsync(app), certificates = rows };
    }

    private static async Task<IResult> AddAsync(string name, AddCertRequest? body, IStateStore db, IDomainStore domains, TlsPublisher tls,
        TimeProvider time, HttpContext context)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        var (installed, error) = await InstallAsync(name, body?.Certificate, body?.PrivateKey, db, domains, tls, time, ProcessEndpoints.Actor(context));
        return error ?? Results.Json(new { hostnames = installed!.Hostnames, not_after = installed.NotAfter, subject = installed.Subject }, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>What a certificate was installed for.</summary>
    public sealed record Installed(IReadOnlyList<string> Hostnames, DateTimeOffset NotAfter, string Subject);

    /// <summary>
    /// Installs a user's certificate for every domain of the app it covers, for this API and Heroku's sni-endpoints:
    /// what it was installed for, or the error to answer with (one sentence, never the key).
    /// </summary>
    internal static async Task<(Installed? Installed, IResult? Error)> InstallAsync(string name, string? certificate, string? privateKey, IStateStore db,
        IDomainStore domains, TlsPublisher tls, TimeProvider time, string actor)
    {
        if (string.IsNullOrWhiteSpace(certificate) || string.IsNullOrWhiteSpace(privateKey))
            return (null, Invalid("Give both the certificate (PEM) and its private key (PEM)."));
        X509Certificate2 leaf;
        try
        {
            (leaf, _) = CertificatePem.Load(certificate, privateKey);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            // The reason from the parser, never the key.
            return (null, Invalid($"The certificate and key cannot be used together: {ex.Message.TrimEnd('.')}."));
        }
        using (leaf)
        {
            var notAfter = new DateTimeOffset(leaf.NotAfter.ToUniversalTime());
            if (notAfter <= time.GetUtcNow())
                return (null, Invalid($"The certificate expired on {notAfter:yyyy-MM-dd}."));
            var names = CertificateStore.DnsNames(leaf);
            var covered = domains.ListForApp(name).Select(d => d.Hostname).Where(h => Covers(names, h)).ToList();
            if (covered.Count == 0)
                return (null, Invalid($"The certificate covers {string.Join(", ", names.DefaultIfEmpty("no DNS name"))}, none of {name}'s domains; add the domain first with paas domains:add."));
            foreach (var hostname in covered)
            {
                await tls.PublishAsync(hostname, name, certificate, privateKey, PublishedCertificate.User, notAfter);
                await tls.SetStatusAsync(hostname, new CertificateStatus(CertificateStatus.Issued, null, 0, null, time.GetUtcNow()));
            }
            db.AddEvent(name, actor, "certificate", $"Installed a certificate for {string.Join(", ", covered)}, valid until {notAfter:yyyy-MM-dd}");
            return (new Installed(covered, notAfter, leaf.Subject), null);
        }
    }

    /// <summary>A certificate name covers a hostname exactly, or as a wildcard one label deep (as TLS clients check it).</summary>
    private static bool Covers(IEnumerable<string> names, string hostname) => names.Any(n =>
        string.Equals(n, hostname, StringComparison.OrdinalIgnoreCase)
        || (n.StartsWith("*.", StringComparison.Ordinal) && hostname.IndexOf('.') is var dot and > 0
            && !hostname.StartsWith("*.", StringComparison.Ordinal)
            && string.Equals(n[2..], hostname[(dot + 1)..], StringComparison.OrdinalIgnoreCase)));

    private static async Task<IResult> EnableAutoAsync(string name, IStateStore db, IDomainStore domains, TlsPublisher tls, HttpContext context,
        CertificateManager manager)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        await tls.SetAutoAsync(name, true);
        db.AddEvent(name, ProcessEndpoints.Actor(context), "certificate", "Enabled automatic certificates");
        manager.Wake();
        return Results.Json(await DescribeAsync(name, domains, tls));
    }

    private static async Task<IResult> DisableAutoAsync(string name, IStateStore db, IDomainStore domains, TlsPublisher tls, HttpContext context)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        await tls.SetAutoAsync(name, false);
        db.AddEvent(name, ProcessEndpoints.Actor(context), "certificate", "Disabled automatic certificates");
        return Results.Json(await DescribeAsync(name, domains, tls));
    }

    private static IResult Invalid(string message) => ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_certificate", message);
}
