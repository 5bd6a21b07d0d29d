using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Paas.Controller.Api;
using Paas.Controller.Certificates;
using Paas.Controller.Routing;
using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Tls;

namespace Paas.Controller.Heroku;

/// <summary>
/// Heroku custom domains and SNI endpoints over the Paas domain and certificate logic (DomainsEndpoints,
/// CertsEndpoints). A domain is routed when it is added, so its status is "succeeded" at once and
/// `domains:wait` returns; an SNI endpoint is one certificate, listed once however many domains it serves.
/// </summary>
public static class HerokuDomains
{
    public sealed record DomainCreate(string? Hostname);

    public sealed record SniEndpointCreate(
        [property: System.Text.Json.Serialization.JsonPropertyName("certificate_chain")] string? CertificateChain,
        [property: System.Text.Json.Serialization.JsonPropertyName("private_key")] string? PrivateKey);

    internal static async Task<IResult> AddAsync(HttpContext context, DomainCreate? body, IStateStore db, IDomainStore domains, RoutePublisher routes,
        PaasSettings settings, TlsPublisher tls)
    {
        var app = HerokuEndpoints.Name(context);
        var (domain, created, error) = await DomainsEndpoints.AddCoreAsync(app, body?.Hostname, db, domains, routes, settings, HerokuEndpoints.User(context));
        if (error is not null)
            return error;
        return Results.Json(await DomainAsync(app, domain!, settings, tls), statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    /// <summary>One domain, by hostname or by its Heroku id (`domains:wait` asks by id).</summary>
    internal static async Task<IResult> ShowAsync(HttpContext context, string domain, IStateStore db, IDomainStore domains, PaasSettings settings, TlsPublisher tls)
    {
        var app = HerokuEndpoints.Name(context);
        var record = db.FindApp(app)!;
        var own = settings.AppHost(app);
        if (Matches(own, domain))
            return Results.Json(HerokuShapes.Domain(app, own, "heroku", null, record.CreatedAt));
        return domains.ListForApp(app).FirstOrDefault(d => Matches(d.Hostname, domain)) is { } found
            ? Results.Json(await DomainAsync(app, found, settings, tls))
            : ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"Couldn't find that domain: {domain}.");
    }

    internal static async Task<IResult> RemoveAsync(HttpContext context, string domain, IStateStore db, IDomainStore domains, RoutePublisher routes,
        PaasSettings settings, TlsPublisher tls)
    {
        var app = HerokuEndpoints.Name(context);
        if (domains.ListForApp(app).FirstOrDefault(d => Matches(d.Hostname, domain)) is not { } found)
            return ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"Couldn't find that domain: {domain}.");
        var shape = await DomainAsync(app, found, settings, tls);
        return await DomainsEndpoints.RemoveCoreAsync(app, found.Hostname, db, domains, routes, tls, HerokuEndpoints.User(context)) ?? Results.Json(shape);
    }

    /// <summary>
    /// `certs:add` associates the chosen domains with the new endpoint; here a certificate already serves every
    /// domain of the app it covers, so the association is only answered.
    /// </summary>
    internal static Task<IResult> UpdateAsync(HttpContext context, string domain, IStateStore db, IDomainStore domains, PaasSettings settings, TlsPublisher tls) =>
        ShowAsync(context, domain, db, domains, settings, tls);

    internal static async Task<IResult> ListSniEndpointsAsync(HttpContext context, IDomainStore domains, TlsPublisher tls)
    {
        var app = HerokuEndpoints.Name(context);
        return Results.Json((await EndpointsAsync(app, domains, tls)).Select(e => e.Shape));
    }

    internal static async Task<IResult> AddSniEndpointAsync(HttpContext context, SniEndpointCreate? body, IStateStore db, IDomainStore domains,
        TlsPublisher tls, TimeProvider time)
    {
        var app = HerokuEndpoints.Name(context);
        var (installed, error) = await CertsEndpoints.InstallAsync(app, body?.CertificateChain, body?.PrivateKey, db, domains, tls, time, HerokuEndpoints.User(context));
        if (error is not null)
            return error;
        var endpoint = (await EndpointsAsync(app, domains, tls)).First(e => e.Domains.Contains(installed!.Hostnames[0]));
        return Results.Json(endpoint.Shape, statusCode: StatusCodes.Status201Created);
    }

    private static bool Matches(string hostname, string requested) =>
        string.Equals(hostname, requested, StringComparison.OrdinalIgnoreCase) || HerokuIds.Domain(hostname) == requested.ToLowerInvariant();

    private static async Task<object> DomainAsync(string app, DomainRecord domain, PaasSettings settings, TlsPublisher tls)
    {
        var certificate = await tls.FindAsync(domain.Hostname);
        var endpoint = certificate is null ? null : new { id = EndpointId(certificate.ChainPem), name = EndpointName(certificate.ChainPem) };
        return HerokuShapes.Domain(app, domain.Hostname, "custom", settings.AppHost(app), domain.CreatedAt, endpoint);
    }

    private sealed record Endpoint(IReadOnlyList<string> Domains, object Shape);

    /// <summary>The app's certificates, each once, with the domains it serves.</summary>
    private static async Task<List<Endpoint>> EndpointsAsync(string app, IDomainStore domains, TlsPublisher tls)
    {
        var byChain = new Dictionary<string, (PublishedCertificate Certificate, List<string> Domains, DateTimeOffset CreatedAt)>(StringComparer.Ordinal);
        foreach (var domain in domains.ListForApp(app))
        {
            if (await tls.FindAsync(domain.Hostname) is not { } certificate)
                continue;
            if (!byChain.TryGetValue(certificate.ChainPem, out var entry))
                byChain[certificate.ChainPem] = entry = (certificate, [], domain.CreatedAt);
            entry.Domains.Add(domain.Hostname);
        }
        return byChain.Values.Select(e => new Endpoint(e.Domains, Shape(app, e.Certificate, e.Domains, e.CreatedAt))).ToList();
    }

    private static object Shape(string app, PublishedCertificate certificate, IReadOnlyList<string> served, DateTimeOffset createdAt)
    {
        using var leaf = X509Certificate2.CreateFromPem(certificate.ChainPem);
        var selfSigned = leaf.SubjectName.RawData.AsSpan().SequenceEqual(leaf.IssuerName.RawData);
        return new
        {
            id = EndpointId(certificate.ChainPem),
            name = EndpointName(certificate.ChainPem),
            display_name = (string?)null,
            certificate_chain = certificate.ChainPem,
            created_at = createdAt,
            updated_at = createdAt,
            app = HerokuShapes.AppRef(app),
            domains = served.Select(HerokuIds.Domain).ToArray(),
            ssl_cert = new Dictionary<string, object?>
            {
                ["ca_signed?"] = !selfSigned,
                ["self_signed?"] = selfSigned,
                ["cert_domains"] = CertificateStore.DnsNames(leaf),
                ["starts_at"] = new DateTimeOffset(leaf.NotBefore.ToUniversalTime()),
                ["expires_at"] = certificate.NotAfter,
                ["issuer"] = leaf.Issuer,
                ["subject"] = leaf.Subject,
                ["acm"] = certificate.Source == PublishedCertificate.Acme,
            },
        };
    }

    // Stable for a certificate: derived from its chain, so listing twice names it the same way.
    private static string Hash(string chainPem) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(chainPem)));

    private static string EndpointId(string chainPem) => HerokuIds.SniEndpoint(Hash(chainPem));

    private static string EndpointName(string chainPem) => "sni-" + Hash(chainPem)[..10];
}
