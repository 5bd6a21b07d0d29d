using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Paas.Controller.Api;
using Paas.Controller.Auth;
using Paas.Controller.Formation;
using Paas.Controller.Git;
using Paas.Controller.Instances;
using Paas.Controller.Releases;
using Paas.Controller.Routing;
using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Instances;
using Paas.Staging;
using Paas.Staging.Hygiene;

namespace Paas.Controller.Heroku;

/// <summary>
/// The subset of the Heroku Platform API v3 that the Heroku CLI needs to create apps, set config, scale,
/// list and roll back releases, list dynos and domains and show logs. Served at the root of the controller
/// (as api.heroku.com serves it), with the same tokens as the Paas API: Bearer, or Basic with the token as password.
/// Errors are Heroku's and Paas's shape alike: <c>{ "id": ..., "message": ... }</c>.
/// </summary>
public static class HerokuEndpoints
{
    public const string LogStreamPath = "/heroku/log-streams";
    public const int MaxLogLines = 1500;
    private const string AppKey = "heroku.app";

    public sealed record FormationUpdate(string? Type, JsonElement? Quantity, string? Size);
    public sealed record FormationBatch(List<FormationUpdate>? Updates);
    public sealed record LogSessionRequest(int? Lines, string? Source, string? Dyno, bool? Tail);
    public sealed record RollbackRequest(string? Release);

    public static void MapHerokuApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("").AddEndpointFilter(AuthenticateAsync);
        api.MapGet("/account", (HttpContext context, PlatformDatabase db, TimeProvider time) =>
            Results.Json(HerokuShapes.Account(User(context), db.FindUser(User(context))?.CreatedAt ?? time.GetUtcNow())));
        api.MapGet("/apps", ListApps);
        // `heroku apps` asks for the caller's own apps this way.
        api.MapGet("/users/{user}/apps", ListApps);
        api.MapPost("/apps", CreateAppAsync);

        var app = api.MapGroup("/apps/{app}").AddEndpointFilter(ResolveApp);
        app.MapGet("", (HttpContext context, PlatformDatabase db, PaasSettings settings) => Results.Json(App(db.FindApp(Name(context))!, db, settings, context)));
        app.MapDelete("", DestroyAppAsync);
        app.MapGet("/config-vars", (HttpContext context, PlatformDatabase db) => Results.Json(db.Config(Name(context))));
        app.MapMethods("/config-vars", ["PATCH"], SetConfigAsync);
        // Paas has no add-ons; `heroku apps:info` lists them.
        app.MapGet("/addons", () => Results.Json(Array.Empty<object>()));
        app.MapGet("/formation", (HttpContext context, PlatformDatabase db, FormationService formation) => Results.Json(Formation(Name(context), db, formation)));
        app.MapMethods("/formation", ["PATCH"], (HttpContext context, FormationBatch? body, PlatformDatabase db, FormationService formation, CancellationToken ct) =>
            ScaleAsync(context, body?.Updates ?? [], db, formation, ct));
        app.MapMethods("/formation/{type}", ["PATCH"], (HttpContext context, string type, FormationUpdate? body, PlatformDatabase db, FormationService formation, CancellationToken ct) =>
            ScaleAsync(context, [new FormationUpdate(type, body?.Quantity, body?.Size)], db, formation, ct));
        app.MapGet("/releases", ListReleases);
        app.MapPost("/releases", RollbackAsync);
        app.MapGet("/releases/{release}", (HttpContext context, string release, PlatformDatabase db, PaasSettings settings) =>
            FindRelease(db, Name(context), release) is { } found
                ? Results.Json(Release(found, db.ListReleases(Name(context), limit: int.MaxValue), settings, ReleaseAuthors(db, Name(context)).GetValueOrDefault(found.Version, "")))
                : ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"{Name(context)} has no release {release}."));
        app.MapGet("/dynos", ListDynosAsync);
        app.MapGet("/domains", (HttpContext context, PlatformDatabase db, PaasSettings settings) =>
        {
            var record = db.FindApp(Name(context))!;
            return Results.Json(new[] { HerokuShapes.Domain(record.Name, settings.AppHost(record.Name), "heroku", record.CreatedAt) });
        });
        app.MapPost("/log-sessions", CreateLogSession);

        // Outside the token filter: the CLI's EventSource sends no token; the session id in the URL is the credential.
        endpoints.MapGet(LogStreamPath + "/{id}", StreamLogsAsync);
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
        var db = http.RequestServices.GetRequiredService<PlatformDatabase>();
        var app = db.FindApp(requested)
            ?? (Guid.TryParse(requested, out _) ? db.ListApps().FirstOrDefault(a => HerokuIds.App(a.Name) == requested.ToLowerInvariant()) : null);
        if (app is null || !MayUse(http, app.Name))
            return ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"Couldn't find that app: '{requested}'.");
        http.Items[AppKey] = app.Name;
        return await next(context);
    }

    /// <summary>The Paas API's rule: owners, collaborators and operators; everyone else is told the app does not exist.</summary>
    private static bool MayUse(HttpContext context, string app) =>
        context.RequestServices.GetRequiredService<AppAccess>().CanSee(Caller.Of(context), app);

    private static string Name(HttpContext context) => (string)context.Items[AppKey]!;

    private static string User(HttpContext context) => Caller.Of(context).Name;

    private static IResult ListApps(HttpContext context, PlatformDatabase db, PaasSettings settings)
    {
        var caller = Caller.Of(context);
        return Results.Json(db.ListApps(caller.IsAdmin ? null : caller.Name).Select(a => App(a, db, settings, context)));
    }

    private static object App(AppRecord app, PlatformDatabase db, PaasSettings settings, HttpContext context) =>
        HerokuShapes.App(app, db.CurrentRelease(app.Name), app.Owner, settings, HttpsGitUrl(app.Name, settings));

    /// <summary>The https:// git URL, as the Heroku CLI builds it too (https://HEROKU_GIT_HOST/APP.git).</summary>
    private static string HttpsGitUrl(string app, PaasSettings settings)
    {
        var host = new Uri(settings.PublicApiUrl).Host;
        return settings.ApiTlsPort == 0 ? settings.GitUrl(app) : $"https://{host}:{settings.ApiTlsPort}/{app}.git";
    }

    private static async Task<IResult> CreateAppAsync(HttpContext context, PlatformDatabase db, GitRepositories repos, RoutePublisher routes, PaasSettings settings)
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
        var created = await AppsEndpoints.CreateAsync(name, Caller.Of(context), db, repos, routes, settings);
        if (created is not IStatusCodeHttpResult { StatusCode: StatusCodes.Status201Created })
            return created;
        return Results.Json(App(db.FindApp(name)!, db, settings, context), statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> DestroyAppAsync(HttpContext context, AppAccess access, PlatformDatabase db, GitRepositories repos, RoutePublisher routes,
        InstanceManager instances, CrashTracker crashes, AppLocks locks, PaasSettings settings, ImageJanitor janitor, StagingOptions staging, CancellationToken ct)
    {
        var app = db.FindApp(Name(context))!;
        var shape = App(app, db, settings, context);
        var destroyed = await AppsEndpoints.DestroyAsync(app.Name, context, access, db, repos, routes, instances, crashes, locks, settings, janitor, staging, ct);
        return destroyed is IStatusCodeHttpResult { StatusCode: StatusCodes.Status204NoContent } ? Results.Json(shape) : destroyed;
    }

    /// <summary>Heroku's config change: a JSON object of NAME: "value", or NAME: null to unset; a new release rolls out.</summary>
    private static async Task<IResult> SetConfigAsync(HttpContext context, JsonElement body, ReleaseService releases, PlatformDatabase db, CancellationToken ct)
    {
        if (ConfigEndpoints.ReadChanges(body) is not { } changes)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_params", "Send a JSON object of NAME: \"value\" (or NAME: null to unset).");
        var app = Name(context);
        try
        {
            await releases.SetConfigAsync(app, changes, User(context), null, ct);
        }
        catch (ReleaseException e)
        {
            return ReleasesEndpoints.Problem(e);
        }
        return Results.Json(db.Config(app));
    }

    /// <summary>Heroku's rollback: POST a release with the id (or version) of the one to go back to.</summary>
    private static async Task<IResult> RollbackAsync(HttpContext context, RollbackRequest? body, ReleaseService releases, PlatformDatabase db, PaasSettings settings, CancellationToken ct)
    {
        var app = Name(context);
        if (body?.Release is not { Length: > 0 } wanted)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_params", "Say which release to roll back to: {\"release\": \"<id or version>\"}.");
        if (FindRelease(db, app, wanted) is not { } target)
            return ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"{app} has no release {wanted}.");
        try
        {
            var release = await releases.RollbackAsync(app, target.Version, User(context), null, ct);
            return Results.Json(Release(release, db.ListReleases(app, limit: int.MaxValue), settings, User(context)), statusCode: StatusCodes.Status201Created);
        }
        catch (ReleaseException e)
        {
            return ReleasesEndpoints.Problem(e);
        }
    }

    private static List<object> Formation(string app, PlatformDatabase db, FormationService formation)
    {
        var updatedAt = db.CurrentRelease(app)?.CreatedAt ?? db.FindApp(app)!.CreatedAt;
        return formation.Describe(app).Select(f => HerokuShapes.Formation(app, f, updatedAt)).ToList();
    }

    /// <summary>Heroku quantities come as numbers or strings, absolute ("2") or relative ("+1", "-1").</summary>
    private static async Task<IResult> ScaleAsync(HttpContext context, IReadOnlyList<FormationUpdate> updates, PlatformDatabase db, FormationService formation, CancellationToken ct)
    {
        var app = Name(context);
        var current = formation.Describe(app).ToDictionary(f => f.Process, f => f.Quantity);
        var changes = new List<FormationChange>();
        foreach (var update in updates)
        {
            int? quantity = null;
            if (update.Quantity is { } q && q.ValueKind != JsonValueKind.Null)
            {
                var text = q.ValueKind == JsonValueKind.String ? q.GetString()!.Trim() : q.GetRawText();
                if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                    return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_params", $"Quantity '{text}' for {update.Type} is not a whole number.");
                quantity = text.StartsWith('+') || text.StartsWith('-') ? current.GetValueOrDefault(update.Type ?? "") + n : n;
            }
            changes.Add(new FormationChange(update.Type, quantity, update.Size));
        }
        try
        {
            var outcome = await formation.ScaleAsync(app, changes, User(context), ct);
            // The CLI prints this header as a warning: instances that could not be placed are worth knowing about.
            if (outcome.Problems.Count > 0)
                context.Response.Headers["Warning-Message"] = string.Join("; ", outcome.Problems).ReplaceLineEndings(" ");
        }
        catch (FormationException e)
        {
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, e.Id, e.Message);
        }
        return Results.Json(Formation(app, db, formation));
    }

    private static IResult ListReleases(HttpContext context, PlatformDatabase db, PaasSettings settings)
    {
        var app = Name(context);
        var range = HerokuRange.Parse(context.Request.Headers.Range.ToString());
        var all = db.ListReleases(app, limit: int.MaxValue);
        var window = (range.Descending ? all : all.Reverse()).Take(range.Max);
        var authors = ReleaseAuthors(db, app);
        return Results.Json(window.Select(r => Release(r, all, settings, authors.GetValueOrDefault(r.Version, ""))));
    }

    /// <param name="all">The app's releases, newest first.</param>
    private static object Release(ReleaseRecord release, IReadOnlyList<ReleaseRecord> all, PaasSettings settings, string author)
    {
        var current = all.Count > 0 ? all[0].Version : 0;
        // Only the newest releases keep their images, so only they can be rolled back to.
        var eligible = all.Take(settings.KeepReleases).Any(r => r.Version == release.Version);
        var description = release.Description.Length > 0 ? release.Description : $"Deploy {release.Commit[..Math.Min(7, release.Commit.Length)]}";
        return HerokuShapes.Release(release, current, eligible, description, author);
    }

    /// <summary>Who made each release, from the "Released vN: …" events the deployer records (releases do not store it).</summary>
    private static Dictionary<int, string> ReleaseAuthors(PlatformDatabase db, string app)
    {
        var authors = new Dictionary<int, string>();
        foreach (var e in db.Events(app, 1000).Where(e => e.Kind == "release" && e.Message.StartsWith("Released v", StringComparison.Ordinal)))
        {
            var digits = e.Message["Released v".Length..].TakeWhile(char.IsAsciiDigit).ToArray();
            if (int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
                authors[version] = e.Actor;
        }
        return authors;
    }

    /// <summary>A release by version ("3" or "v3") or by its Heroku id.</summary>
    private static ReleaseRecord? FindRelease(PlatformDatabase db, string app, string idOrVersion)
    {
        var releases = db.ListReleases(app, limit: int.MaxValue);
        var version = idOrVersion.TrimStart('v', 'V');
        return int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? releases.FirstOrDefault(r => r.Version == v)
            : releases.FirstOrDefault(r => HerokuIds.Release(app, r.Version) == idOrVersion.ToLowerInvariant());
    }

    private static async Task<IResult> ListDynosAsync(HttpContext context, PlatformDatabase db, InstanceManager instances, CancellationToken ct)
    {
        var app = Name(context);
        var releases = db.ListReleases(app, limit: int.MaxValue).ToDictionary(r => r.Version);
        var current = releases.Count > 0 ? releases.Keys.Max() : 0;
        var list = (await instances.ListAsync(app, ct)).OrderBy(i => i.Process, StringComparer.Ordinal).ThenBy(i => i.Index).ThenBy(i => i.Release);
        return Results.Json(list.Select(i => HerokuShapes.Dyno(i, DynoState(i, current),
            releases.TryGetValue(i.Release, out var r) ? r.ProcessTypes.GetValueOrDefault(i.Process) : null)));
    }

    /// <summary>Heroku's dyno states: up, crashed, and down for an instance of an older release on its way out.</summary>
    private static string DynoState(InstanceState instance, int currentRelease) =>
        !instance.Running ? "crashed" : instance.Release != currentRelease ? "down" : "up";

    private static IResult CreateLogSession(HttpContext context, LogSessionRequest? body, HerokuLogSessions sessions, TimeProvider time)
    {
        var lines = body?.Lines ?? 100;
        if (lines is < 1 or > MaxLogLines)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_params", $"lines must be between 1 and {MaxLogLines}.");
        var query = new HerokuLogQuery(lines, NullIfEmpty(body?.Source), NullIfEmpty(body?.Dyno), body?.Tail == true);
        var id = sessions.Create(Name(context), query);
        var now = time.GetUtcNow();
        // The URL the CLI used to reach this API reaches the stream too.
        var url = $"{context.Request.Scheme}://{context.Request.Host}{LogStreamPath}/{id}";
        return Results.Json(new { id, logplex_url = url, created_at = now, updated_at = now }, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>The session's log lines as server-sent events, one line per event; the stream ends after the history unless tailing.</summary>
    private static async Task StreamLogsAsync(HttpContext context, string id, HerokuLogSessions sessions, IHerokuLogSource logs)
    {
        if (sessions.Take(id) is not var (app, query))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync("This log session does not exist or has expired.\n");
            return;
        }
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        var aborted = context.RequestAborted;
        try
        {
            await context.Response.Body.FlushAsync(aborted);
            await foreach (var line in logs.ReadAsync(app, query, aborted))
            {
                await context.Response.WriteAsync($"data: {line.ReplaceLineEndings(" ")}\n\n", aborted);
                await context.Response.Body.FlushAsync(aborted);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && aborted.IsCancellationRequested)
        {
            // The CLI hung up (Ctrl-C on `heroku logs --tail`): that is how a tail ends.
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static readonly string[] Adjectives = ["quiet", "brave", "sunny", "rapid", "gentle", "shiny", "frosty", "mellow", "bold", "calm"];
    private static readonly string[] Nouns = ["river", "meadow", "falcon", "harbor", "cedar", "comet", "lantern", "summit", "breeze", "pebble"];

    /// <summary>A free name like Heroku's (shiny-falcon-04217) for apps:create without a name.</summary>
    private static string GenerateName(PlatformDatabase db)
    {
        while (true)
        {
            var name = $"{Adjectives[RandomNumberGenerator.GetInt32(Adjectives.Length)]}-{Nouns[RandomNumberGenerator.GetInt32(Nouns.Length)]}-{RandomNumberGenerator.GetInt32(100000):D5}";
            if (db.FindApp(name) is null)
                return name;
        }
    }
}
