using Paas.Controller.Api;
using Paas.Controller.Auth;
using Paas.Controller.Formation;
using Paas.Controller.Instances;
using Paas.Controller.State;

namespace Paas.Controller.Heroku;

/// <summary>
/// The subset of the Heroku Platform API v3 that the Heroku CLI needs to create apps, set config, scale,
/// list and roll back releases, list dynos and domains and show logs. Served at the root of the controller
/// (as api.heroku.com serves it), with the same tokens as the Paas API: Bearer, or Basic with the token as password.
/// Errors are Heroku's and Paas's shape alike: <c>{ "id": ..., "message": ... }</c>.
/// </summary>
public static class HerokuEndpoints
{
    private const string AppKey = "heroku.app";

    public static void MapHerokuApi(this IEndpointRouteBuilder endpoints)
    {
        // Heroku's own reference documents these; the Paas OpenAPI document describes /v1.
        var api = endpoints.MapGroup("").AddEndpointFilter(AuthenticateAsync).ExcludeFromDescription();
        api.MapGet("/account", (HttpContext context, IStateStore db, TimeProvider time) =>
            Results.Json(HerokuShapes.Account(User(context), db.FindUser(User(context))?.CreatedAt ?? time.GetUtcNow())));
        api.MapGet("/apps", HerokuApps.ListApps);
        // `heroku apps` asks for the caller's own apps this way.
        api.MapGet("/users/{user}/apps", HerokuApps.ListApps);
        api.MapPost("/apps", HerokuApps.CreateAppAsync);
        api.MapGet("/addons", HerokuAddons.ListAllAsync);
        api.MapPost("/actions/addons/resolve", HerokuAddons.ResolveAsync);
        api.MapGet("/addon-attachments", HerokuAddons.AttachmentsAsync);

        var app = api.MapGroup("/apps/{app}").AddEndpointFilter(ResolveApp);
        app.MapGet("", HerokuApps.Show);
        app.MapDelete("", HerokuApps.DestroyAppAsync);
        app.MapMethods("", ["PATCH"], HerokuApps.UpdateAsync);
        app.MapGet("/domains", HerokuApps.Domains);
        app.MapPost("/domains", HerokuDomains.AddAsync);
        app.MapGet("/domains/{domain}", HerokuDomains.ShowAsync);
        app.MapMethods("/domains/{domain}", ["PATCH"], HerokuDomains.UpdateAsync);
        app.MapDelete("/domains/{domain}", HerokuDomains.RemoveAsync);
        app.MapGet("/buildpack-installations", HerokuBuildpacks.List);
        app.MapPut("/buildpack-installations", HerokuBuildpacks.Set);
        app.MapGet("/addons", HerokuAddons.ListAsync);
        app.MapGet("/addon-attachments", HerokuAddons.AttachmentsAsync);
        app.MapPost("/addons", HerokuAddons.CreateAsync);
        app.MapGet("/addons/{addon}", HerokuAddons.ShowAsync);
        app.MapDelete("/addons/{addon}", HerokuAddons.DestroyAsync);
        app.MapGet("/sni-endpoints", HerokuDomains.ListSniEndpointsAsync);
        app.MapPost("/sni-endpoints", HerokuDomains.AddSniEndpointAsync);
        app.MapGet("/config-vars", (HttpContext context, IStateStore db) => Results.Json(db.Config(Name(context))));
        app.MapMethods("/config-vars", ["PATCH"], HerokuReleases.SetConfigAsync);
        app.MapGet("/releases", HerokuReleases.ListReleases);
        app.MapGet("/releases/{release}", HerokuReleases.Show);
        app.MapGet("/releases/{release}/config-vars", HerokuReleases.ConfigOf);
        app.MapPost("/releases", HerokuReleases.RollbackAsync);
        app.MapGet("/formation", HerokuProcesses.ListFormation);
        app.MapMethods("/formation", ["PATCH"], (HttpContext context, HerokuProcesses.FormationBatch? body, IStateStore db, FormationService formation, CancellationToken ct) =>
            HerokuProcesses.ScaleAsync(context, body?.Updates ?? [], db, formation, ct));
        app.MapMethods("/formation/{type}", ["PATCH"], (HttpContext context, string type, HerokuProcesses.FormationUpdate? body, IStateStore db, FormationService formation, CancellationToken ct) =>
            HerokuProcesses.ScaleAsync(context, [new HerokuProcesses.FormationUpdate(type, body?.Quantity, body?.Size)], db, formation, ct));
        app.MapGet("/dynos", HerokuProcesses.ListDynosAsync);
        app.MapPost("/dynos", HerokuRuns.Create);
        app.MapDelete("/dynos", (HttpContext context, InstanceCommands commands, CancellationToken ct) => HerokuProcesses.RestartAsync(context, null, commands, ct));
        app.MapDelete("/dynos/{dyno}", (HttpContext context, string dyno, InstanceCommands commands, CancellationToken ct) => HerokuProcesses.RestartAsync(context, dyno, commands, ct));
        app.MapDelete("/formations/{type}", (HttpContext context, string type, InstanceCommands commands, CancellationToken ct) => HerokuProcesses.RestartAsync(context, type, commands, ct));
        app.MapPost("/dynos/{dyno}/actions/stop", HerokuProcesses.StopAsync);
        app.MapPost("/log-sessions", HerokuLogs.CreateLogSession);

        // Outside the token filter: the CLI's EventSource sends no token; the session id in the URL is the credential.
        endpoints.MapGet(HerokuLogs.LogStreamPath + "/{id}", HerokuLogs.StreamLogsAsync).ExcludeFromDescription();
    }

    private static async ValueTask<object?> AuthenticateAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var authenticator = context.HttpContext.RequestServices.GetRequiredService<RequestAuthenticator>();
        if (authenticator.Authenticate(context.HttpContext.Request) is not { } token)
            return ApiError.Result(StatusCodes.Status401Unauthorized, "unauthorized", "A valid Paas API token is required: set HEROKU_API_KEY to one.");
        Caller.From(token).Attach(context.HttpContext);
        return await next(context);
    }

    /// <summary>Finds the app by name or by its Heroku id, and answers 404 for apps that do not exist or that the caller may not use.</summary>
    private static async ValueTask<object?> ResolveApp(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var requested = http.GetRouteValue("app") as string ?? "";
        var db = http.RequestServices.GetRequiredService<IStateStore>();
        var app = db.FindApp(requested)
            ?? (Guid.TryParse(requested, out _) ? db.ListApps().FirstOrDefault(a => HerokuIds.App(a.Name) == requested.ToLowerInvariant()) : null);
        if (app is null || !MayUse(http, app.Name))
            return ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"Couldn't find that app: '{requested}'.");
        http.Items[AppKey] = app.Name;
        return await next(context);
    }

    /// <summary>The Paas API's rule: owners, collaborators and operators; everyone else is told the app does not exist.</summary>
    internal static bool MayUse(HttpContext context, string app) =>
        context.RequestServices.GetRequiredService<AppAccess>().CanSee(Caller.Of(context), app);

    /// <summary>The app the request is about, as resolved by the app filter.</summary>
    internal static string Name(HttpContext context) => (string)context.Items[AppKey]!;

    internal static string User(HttpContext context) => Caller.Of(context).Name;
}
