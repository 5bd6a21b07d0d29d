using System.Text.Json.Serialization;
using Paas.Controller.Routing;
using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Domains;

namespace Paas.Controller.Api;

/// <summary>Custom domains: each one is a host in the routing table that serves the app, like its own APP.PAAS_DOMAIN host.</summary>
public static class DomainsEndpoints
{
    public sealed record AddDomainRequest([property: JsonPropertyName("hostname")] string? Hostname);

    public static void MapDomainsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/apps/{name}/domains", List)
            .WithName("listDomains").WithSummary("List the app's custom domains");
        api.MapPost("/apps/{name}/domains", AddAsync)
            .WithName("addDomain").WithSummary("Serve the app on a custom hostname (or wildcard *.example.com)");
        api.MapDelete("/apps/{name}/domains/{hostname}", RemoveAsync)
            .WithName("removeDomain").WithSummary("Stop serving the app on a custom hostname");
    }

    private static IResult List(string name, IStateStore db, IDomainStore domains) =>
        db.FindApp(name) is null ? AppsEndpoints.NotFound(name) : Results.Json(domains.ListForApp(name).Select(Describe));

    private static async Task<IResult> AddAsync(string name, AddDomainRequest? body, IStateStore db, IDomainStore domains, RoutePublisher routes,
        PaasSettings settings, HttpContext context)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        var hostname = DomainName.Normalize(body?.Hostname);
        if (DomainName.Validate(hostname, settings.AppDomain) is { } problem)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_hostname", problem);
        if (!domains.TryAdd(name, hostname, out var domain))
        {
            if (domain.App != name)
                return ApiError.Result(StatusCodes.Status409Conflict, "hostname_taken", domain.Hostname == hostname
                    ? $"{hostname} is already a domain of another app."
                    : $"{hostname} overlaps {domain.Hostname}, a domain of another app.");
            // Adding what is there already changes nothing; the route is published again in case Redis lost it.
            await routes.SetHostAsync(hostname, name);
            return Results.Json(Describe(domain));
        }
        await routes.SetHostAsync(hostname, name);
        db.AddEvent(name, ProcessEndpoints.Actor(context), "domain", $"Added domain {hostname}");
        return Results.Json(Describe(domain), statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> RemoveAsync(string name, string hostname, IStateStore db, IDomainStore domains, RoutePublisher routes, HttpContext context,
        Paas.Controller.Certificates.TlsPublisher tls)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        hostname = DomainName.Normalize(hostname);
        if (!domains.Remove(name, hostname))
            return ApiError.Result(StatusCodes.Status404NotFound, "domain_not_found", $"{hostname} is not a domain of {name}.");
        await routes.RemoveHostAsync(hostname);
        await tls.RemoveAsync(hostname);
        db.AddEvent(name, ProcessEndpoints.Actor(context), "domain", $"Removed domain {hostname}");
        return Results.NoContent();
    }

    /// <summary>Called by apps:destroy before the app's rows go: the router must stop serving its domains too.</summary>
    public static async Task RemoveAllAsync(string app, IDomainStore domains, RoutePublisher routes, Paas.Controller.Certificates.TlsPublisher tls)
    {
        foreach (var domain in domains.ListForApp(app))
        {
            await routes.RemoveHostAsync(domain.Hostname);
            await tls.RemoveAsync(domain.Hostname);
            domains.Remove(app, domain.Hostname);
        }
    }

    private static Paas.Core.Api.DomainResponse Describe(DomainRecord d) => new(d.Hostname, d.App, d.CreatedAt);
}
