using System.Security.Cryptography;
using System.Text.Json;
using Paas.Controller.Api;
using Paas.Controller.Apps;
using Paas.Controller.Auth;
using Paas.Controller.State;
using Paas.Core.Configuration;

namespace Paas.Controller.Heroku;

/// <summary>Heroku apps: list, show, create (with a generated name when none is given) and destroy, through the Paas app logic.</summary>
public static class HerokuApps
{
    internal static IResult Show(HttpContext context, IStateStore db, PaasSettings settings) =>
        Results.Json(App(db.FindApp(HerokuEndpoints.Name(context))!, db, settings, context));

    /// <summary>The app's own host under the platform's app domain (Heroku's "heroku" domain), then its custom domains.</summary>
    internal static IResult Domains(HttpContext context, IStateStore db, IDomainStore domains, PaasSettings settings)
    {
        var record = db.FindApp(HerokuEndpoints.Name(context))!;
        var own = settings.AppHost(record.Name);
        return Results.Json(domains.ListForApp(record.Name).Select(d => HerokuShapes.Domain(record.Name, d.Hostname, "custom", own, d.CreatedAt))
            .Prepend(HerokuShapes.Domain(record.Name, own, "heroku", null, record.CreatedAt)));
    }

    internal static IResult ListApps(HttpContext context, IStateStore db, PaasSettings settings)
    {
        var caller = Caller.Of(context);
        return Results.Json(db.ListApps(caller.IsAdmin ? null : caller.Name).Select(a => App(a, db, settings, context)));
    }

    internal static object App(AppRecord app, IStateStore db, PaasSettings settings, HttpContext context) =>
        HerokuShapes.App(app, db.CurrentRelease(app.Name), app.Owner, settings, HttpsGitUrl(app.Name, settings), db.RouteOptions(app.Name).Maintenance == true);

    /// <summary>
    /// PATCH /apps/APP: `maintenance:on|off` (the router's maintenance page, the app keeps running) and a new name
    /// (`apps:rename`, the same rules and steps as `paas apps:rename`).
    /// </summary>
    internal static async Task<IResult> UpdateAsync(HttpContext context, JsonElement body, IStateStore db, PaasSettings settings,
        Routing.RoutePublisher routes, AppRename renames, TimeProvider time, CancellationToken ct)
    {
        var name = HerokuEndpoints.Name(context);
        if (body.ValueKind != JsonValueKind.Object)
            return ApiError.Result(StatusCodes.Status400BadRequest, "invalid_params", "Send a JSON object, e.g. {\"maintenance\": true}.");
        // The same name alone is a rename to itself (refused as such); beside other fields it only restates the app's name.
        if (body.TryGetProperty("name", out var newName) && newName.ValueKind == JsonValueKind.String
            && (newName.GetString() != name || body.EnumerateObject().Count() == 1))
        {
            if (await renames.RenameAsync(name, newName.GetString(), Caller.Of(context), ct) is { } refused)
                return refused;
            name = newName.GetString()!;
        }
        if (body.TryGetProperty("maintenance", out var maintenance))
        {
            if (maintenance.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_params", "maintenance is true or false.");
            var current = db.RouteOptions(name);
            // Off is stored as absent, as the Paas routing API stores it.
            var options = current with { Maintenance = maintenance.ValueKind == JsonValueKind.True ? true : null };
            await RoutingEndpoints.ApplyAsync(name, current, options, db, routes, time, HerokuEndpoints.User(context), ct);
        }
        return Results.Json(App(db.FindApp(name)!, db, settings, context));
    }

    /// <summary>The https:// git URL, as the Heroku CLI builds it too (https://HEROKU_GIT_HOST/APP.git).</summary>
    internal static string HttpsGitUrl(string app, PaasSettings settings)
    {
        var host = new Uri(settings.PublicApiUrl).Host;
        return settings.ApiTlsPort == 0 ? settings.GitUrl(app) : $"https://{host}:{settings.ApiTlsPort}/{app}.git";
    }

    internal static async Task<IResult> CreateAppAsync(HttpContext context, AppLifecycle apps, IStateStore db, PaasSettings settings)
    {
        string? name = null;
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
                if (body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
                    name = n.GetString();
            }
            catch (JsonException)
            {
                return ApiError.Result(StatusCodes.Status400BadRequest, "invalid_params", "The request body is not valid JSON.");
            }
        }
        name ??= GenerateName(db);
        return await apps.CreateAsync(name, Caller.Of(context))
            ?? Results.Json(App(db.FindApp(name)!, db, settings, context), statusCode: StatusCodes.Status201Created);
    }

    internal static async Task<IResult> DestroyAppAsync(HttpContext context, AppLifecycle apps, IStateStore db, PaasSettings settings, CancellationToken ct)
    {
        var app = db.FindApp(HerokuEndpoints.Name(context))!;
        var shape = App(app, db, settings, context);
        return await apps.DestroyAsync(app.Name, Caller.Of(context), ct) ?? Results.Json(shape);
    }

    private static readonly string[] Adjectives = ["quiet", "brave", "sunny", "rapid", "gentle", "shiny", "frosty", "mellow", "bold", "calm"];
    private static readonly string[] Nouns = ["river", "meadow", "falcon", "harbor", "cedar", "comet", "lantern", "summit", "breeze", "pebble"];

    /// <summary>A free name like Heroku's (shiny-falcon-04217) for apps:create without a name.</summary>
    private static string GenerateName(IStateStore db)
    {
        while (true)
        {
            var name = $"{Adjectives[RandomNumberGenerator.GetInt32(Adjectives.Length)]}-{Nouns[RandomNumberGenerator.GetInt32(Nouns.Length)]}-{RandomNumberGenerator.GetInt32(100000):D5}";
            if (db.FindApp(name) is null)
                return name;
        }
    }
}
