using Paas.Controller.Auth;
using Paas.Controller.State;
using Paas.Staging.Dockerfiles;

namespace Paas.Controller.Api;

/// <summary>
/// An app's image registry logins (`paas registry:login`): set, list (passwords masked, never answered), remove.
/// `deploy:image` pulls with the login for the image's registry when the deploy brings none of its own.
/// </summary>
public static class RegistryCredentialsEndpoints
{
    public sealed record LoginRequest(string? Username, string? Password);

    /// <summary>What a listing shows in place of a password.</summary>
    public const string Masked = "********";

    public static void MapRegistryCredentialsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/apps/{name}/registry-credentials", (string name, IStateStore db) =>
            Results.Json(db.RegistryCredentials(name).OrderBy(c => c.Key, StringComparer.Ordinal)
                .Select(c => new { registry = c.Key, username = c.Value.Username, password = Masked })));

        api.MapPut("/apps/{name}/registry-credentials/{registry}", (string name, string registry, LoginRequest? body, HttpContext context, IStateStore db) =>
        {
            // Routing leaves %2F encoded in a value: a registry typed as a URL arrives as http:%2F%2Fhost%2F.
            registry = Uri.UnescapeDataString(registry);
            if (ImageReferences.NormaliseOrNull(registry) is not { } host)
                return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_registry", $"'{registry}' is not a registry host; use e.g. registry.example.com or registry.example.com:5000.");
            if (string.IsNullOrWhiteSpace(body?.Username) || body.Username.Any(char.IsControl) || string.IsNullOrEmpty(body.Password) || body.Password.Any(c => c is '\r' or '\n'))
                return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_login", "Send the registry login as {\"username\": \"...\", \"password\": \"...\"} (both non-empty, one line each).");
            var logins = new Dictionary<string, RegistryCredential>(db.RegistryCredentials(name), StringComparer.Ordinal)
            {
                [host] = new RegistryCredential(body.Username.Trim(), body.Password),
            };
            db.SetRegistryCredentials(name, logins);
            db.AddEvent(name, Caller.Of(context).Name, "registry", $"Stored a login to {host} (as {body.Username.Trim()})");
            return Results.Json(new { registry = host, username = body.Username.Trim(), password = Masked });
        });

        api.MapDelete("/apps/{name}/registry-credentials/{registry}", (string name, string registry, HttpContext context, IStateStore db) =>
        {
            registry = Uri.UnescapeDataString(registry);
            var host = ImageReferences.NormaliseOrNull(registry);
            var logins = new Dictionary<string, RegistryCredential>(db.RegistryCredentials(name), StringComparer.Ordinal);
            if (host is null || !logins.Remove(host))
                return ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"{name} has no login to {host ?? registry}.");
            db.SetRegistryCredentials(name, logins);
            db.AddEvent(name, Caller.Of(context).Name, "registry", $"Removed the login to {host}");
            return Results.NoContent();
        });
    }
}
