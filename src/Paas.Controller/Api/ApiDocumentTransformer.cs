using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Paas.Controller.Api;

/// <summary>
/// What the generated OpenAPI document cannot know from the endpoints: the API's title, and that everything
/// under /v1 (except /v1/info) needs a bearer token, which a route-group filter checks.
/// </summary>
public sealed class ApiDocumentTransformer : IOpenApiDocumentTransformer
{
    public const string SchemeName = "bearer";
    private static readonly HashSet<string> Anonymous = ["/v1/info"];

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "Paas API";
        document.Info.Description = "Apps, releases, formation, instances, one-off runs and domains. Errors are JSON: {\"id\": ..., \"message\": ...}.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[SchemeName] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API token: PAAS_TOKEN, ~/.config/paas/token, or the admin token in the data directory.",
        };
        foreach (var (path, item) in document.Paths)
        {
            if (!path.StartsWith("/v1/", StringComparison.Ordinal) || Anonymous.Contains(path) || item.Operations is null)
                continue;
            foreach (var operation in item.Operations.Values)
                (operation.Security ??= []).Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeName, document)] = [] });
        }
        return Task.CompletedTask;
    }
}
