using Paas.Controller.Apps;
using Paas.Controller.Auth;
using Paas.Controller.State;
using Paas.Core.Api;
using Paas.Core.Configuration;

namespace Paas.Controller.Api;

public static class AppsEndpoints
{
    public sealed record CreateAppRequest(string? Name);

    /// <summary>PATCH /v1/apps/{name}: a new name (`paas apps:rename`).</summary>
    public sealed record UpdateAppRequest(string? Name);

    public static void MapAppsApi(this IEndpointRouteBuilder api)
    {
        api.MapPost("/apps", (CreateAppRequest? body, HttpContext context, AppLifecycle apps, IStateStore db, PaasSettings settings) =>
            CreateAsync(body?.Name, Caller.Of(context), apps, db, settings));
        api.MapGet("/apps", (HttpContext context, IStateStore db, PaasSettings settings) =>
        {
            // Operators see every app; everyone else the apps they own or collaborate on.
            var caller = Caller.Of(context);
            return Paging.Page(context, db.ListApps(caller.IsAdmin ? null : caller.Name), a => a.Name, a => Describe(a, db, settings));
        });
        api.MapGet("/apps/{name}", (string name, IStateStore db, PaasSettings settings) =>
            db.FindApp(name) is { } app ? Results.Json(Describe(app, db, settings)) : NotFound(name));
        api.MapDelete("/apps/{name}", DestroyAsync);
        api.MapPatch("/apps/{name}", RenameAsync);
    }

    private static async Task<IResult> CreateAsync(string? name, Caller caller, AppLifecycle apps, IStateStore db, PaasSettings settings) =>
        await apps.CreateAsync(name, caller) ?? Results.Json(Describe(db.FindApp(name!)!, db, settings), statusCode: StatusCodes.Status201Created);

    private static async Task<IResult> DestroyAsync(string name, HttpContext context, AppLifecycle apps, CancellationToken ct) =>
        await apps.DestroyAsync(name, Caller.Of(context), ct) ?? Results.NoContent();

    private static async Task<IResult> RenameAsync(string name, UpdateAppRequest? body, HttpContext context, AppRename renames, IStateStore db,
        PaasSettings settings, CancellationToken ct)
    {
        if (body?.Name is not { } newName)
            return ApiError.Result(StatusCodes.Status400BadRequest, "invalid_params", "Send the new name, e.g. {\"name\": \"my-app\"}.");
        return await renames.RenameAsync(name, newName, Caller.Of(context), ct) ?? Results.Json(Describe(db.FindApp(newName)!, db, settings));
    }

    private static AppResponse Describe(AppRecord app, IStateStore db, PaasSettings settings) =>
        new(app.Name, settings.GitUrl(app.Name), settings.AppUrl(app.Name), app.CreatedAt, app.Owner, db.CurrentRelease(app.Name)?.Version);

    public static IResult NotFound(string name) =>
        ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"No app named '{name}' exists.");
}
