using Paas.Controller.Auth;
using Paas.Controller.Git;
using Paas.Controller.Instances;
using Paas.Controller.Routing;
using Paas.Controller.State;
using Paas.Core.Apps;
using Paas.Core.Configuration;
using Paas.Core.Logs;
using Paas.Staging;
using Paas.Staging.Hygiene;

namespace Paas.Controller.Api;

public static class AppsEndpoints
{
    public sealed record CreateAppRequest(string? Name);

    public static void MapAppsApi(this IEndpointRouteBuilder api)
    {
        api.MapPost("/apps", (CreateAppRequest? body, HttpContext context, PlatformDatabase db, GitRepositories repos, RoutePublisher routes, PaasSettings settings, AppLogWriter logs) =>
            CreateAsync(body?.Name, Caller.Of(context), db, repos, routes, settings, logs));
        api.MapGet("/apps", (HttpContext context, PlatformDatabase db, PaasSettings settings) =>
        {
            // Operators see every app; everyone else the apps they own or collaborate on.
            var caller = Caller.Of(context);
            return Paging.Page(context, db.ListApps(caller.IsAdmin ? null : caller.Name), a => a.Name, a => Describe(a, db, settings));
        });
        api.MapGet("/apps/{name}", (string name, PlatformDatabase db, PaasSettings settings) =>
            db.FindApp(name) is { } app ? Results.Json(Describe(app, db, settings)) : NotFound(name));
        api.MapDelete("/apps/{name}", DestroyAsync);
    }

    public static async Task<IResult> CreateAsync(string? name, Caller caller, PlatformDatabase db, GitRepositories repos, RoutePublisher routes, PaasSettings settings, AppLogWriter logs)
    {
        if (AppName.Validate(name) is { } problem)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_name", problem);
        if (!db.TryCreateApp(name!, caller.Name, out var app))
            return ApiError.Result(StatusCodes.Status409Conflict, "name_taken", $"An app named '{name}' already exists.");
        repos.Create(app.Name);
        // Lines of a destroyed app of the same name may have arrived after its log was deleted (its last requests, its last output).
        await logs.DeleteAsync(app.Name);
        await routes.SetHostAsync(settings.AppHost(app.Name), app.Name);
        return Results.Json(Describe(app, db, settings), statusCode: StatusCodes.Status201Created);
    }

    public static async Task<IResult> DestroyAsync(string name, HttpContext context, AppAccess access, PlatformDatabase db, GitRepositories repos, RoutePublisher routes,
        InstanceManager instances, CrashTracker crashes, AppLocks locks, PaasSettings settings, ImageJanitor janitor, StagingOptions staging, DomainStore domains, AppLogWriter logs, CancellationToken ct)
    {
        if (db.FindApp(name) is null)
            return NotFound(name);
        if (access.LevelOf(Caller.Of(context), name) != AccessLevel.Owner)
            return ApiAuthorization.OwnerOnly(name, "destroy it");
        using var _ = await locks.AcquireAsync(name, ct);
        foreach (var instance in await instances.ListAsync(name, ct))
            await instances.RetireAsync(instance, drain: false, ct);
        crashes.Forget(name);
        await routes.RemoveHostAsync(settings.AppHost(name));
        await DomainsEndpoints.RemoveAllAsync(name, domains, routes);
        db.DeleteApp(name);
        repos.Delete(name);
        await logs.DeleteAsync(name);
        // Everything the app left on disk: its release images, staging leftovers and build cache.
        await janitor.RemoveAppAsync(name, ct);
        var cache = Path.Combine(staging.CacheRoot, name);
        if (Directory.Exists(cache))
            Directory.Delete(cache, recursive: true);
        return Results.NoContent();
    }

    private static object Describe(AppRecord app, PlatformDatabase db, PaasSettings settings)
    {
        var release = db.CurrentRelease(app.Name);
        return new
        {
            name = app.Name,
            git_url = settings.GitUrl(app.Name),
            web_url = settings.AppUrl(app.Name),
            created_at = app.CreatedAt,
            owner = app.Owner,
            release = release?.Version,
        };
    }

    public static IResult NotFound(string name) =>
        ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"No app named '{name}' exists.");
}
