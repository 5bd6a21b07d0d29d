using Paas.Controller.Addons;
using Paas.Controller.Api;
using Paas.Core.Addons;

namespace Paas.Controller.Heroku;

/// <summary>
/// Heroku's add-on endpoints over Paas add-ons: `heroku addons:create heroku-postgresql -a APP` (Heroku's service
/// names map to ours, an unknown Heroku plan to the default plan), `heroku addons`, `heroku addons:destroy`
/// (the CLI asks for the confirmation itself).
/// </summary>
public static class HerokuAddons
{
    public static async Task<IResult> ListAsync(HttpContext context, AddonService addons, CancellationToken ct) =>
        Results.Json((await addons.ListAsync(HerokuEndpoints.Name(context), ct)).Select(Shape));

    public static async Task<IResult> ListAllAsync(HttpContext context, AddonService addons, CancellationToken ct) =>
        Results.Json((await addons.ListAsync(null, ct)).Where(a => HerokuEndpoints.MayUse(context, a.App)).Select(Shape));

    public static async Task<IResult> ShowAsync(HttpContext context, string addon, AddonService addons, CancellationToken ct) =>
        await AddonsEndpoints.AnswerAsync(async () =>
        {
            var id = Resolve(context, addon, addons);
            return Results.Json(Shape((await addons.ListAsync(HerokuEndpoints.Name(context), ct)).First(a => a.Id == id)));
        });

    /// <summary>`plan` as Heroku's CLI sends it ({"name": "heroku-postgresql:essential-0"}) or as a plain string.</summary>
    public static Task<IResult> CreateAsync(HttpContext context, System.Text.Json.JsonElement body, AddonService addons, CancellationToken ct)
    {
        var plan = body.ValueKind == System.Text.Json.JsonValueKind.Object && body.TryGetProperty("plan", out var p)
            ? p.ValueKind == System.Text.Json.JsonValueKind.String ? p.GetString()
            : p.ValueKind == System.Text.Json.JsonValueKind.Object && p.TryGetProperty("name", out var n) ? n.GetString() : null
            : null;
        return AddonsEndpoints.AnswerAsync(async () => Results.Json(Shape(await addons.CreateAsync(HerokuEndpoints.Name(context), plan ?? "",
            HerokuEndpoints.User(context), _ => Task.CompletedTask, ct)), statusCode: StatusCodes.Status201Created));
    }

    /// <summary>Each add-on is attached to its own app once, under its config var's name (DATABASE for DATABASE_URL).</summary>
    public static async Task<IResult> AttachmentsAsync(HttpContext context, AddonService addons, CancellationToken ct)
    {
        var app = context.Items.ContainsKey("heroku.app") ? HerokuEndpoints.Name(context) : null;
        return Results.Json((await addons.ListAsync(app, ct)).Where(a => HerokuEndpoints.MayUse(context, a.App)).Select(a => new
        {
            id = HerokuIds.AddonService("attachment:" + a.Id),
            name = a.ConfigVar.EndsWith("_URL", StringComparison.Ordinal) ? a.ConfigVar[..^4] : a.ConfigVar,
            addon = new { id = HerokuIds.Addon(a.Id), name = a.Id, app = HerokuShapes.AppRef(a.App) },
            app = HerokuShapes.AppRef(a.App),
            created_at = a.CreatedAt,
            updated_at = a.CreatedAt,
            web_url = (string?)null,
        }));
    }

    public sealed record ResolveBody(string? App, string? Addon);

    /// <summary>
    /// POST /actions/addons/resolve, which `heroku addons:destroy NAME` asks first: the add-ons (of the app, when
    /// given by name or id) whose name, Heroku id or service matches; Heroku's not-found shape otherwise.
    /// </summary>
    public static async Task<IResult> ResolveAsync(HttpContext context, ResolveBody? body, AddonService addons, State.IStateStore db, CancellationToken ct)
    {
        var wanted = body?.Addon ?? "";
        var app = body?.App is { Length: > 0 } a
            ? db.FindApp(a)?.Name ?? db.ListApps().FirstOrDefault(x => HerokuIds.App(x.Name) == a.ToLowerInvariant())?.Name
            : null;
        var found = (await addons.ListAsync(app, ct))
            .Where(v => HerokuEndpoints.MayUse(context, v.App))
            .Where(v => v.Id == wanted || HerokuIds.Addon(v.Id) == wanted.ToLowerInvariant() || AddonKind.Find(wanted)?.Name == v.Service)
            .ToList();
        return found.Count == 0
            ? Results.Json(new { id = "not_found", resource = "add_on", message = $"Couldn't find that add-on: '{wanted}'." }, statusCode: StatusCodes.Status404NotFound)
            : Results.Json(found.Select(Shape));
    }

    public static Task<IResult> DestroyAsync(HttpContext context, string addon, AddonService addons, CancellationToken ct) =>
        AddonsEndpoints.AnswerAsync(async () =>
        {
            var app = HerokuEndpoints.Name(context);
            var id = Resolve(context, addon, addons);
            var view = (await addons.ListAsync(app, ct)).First(a => a.Id == id);
            await addons.DestroyAsync(app, id, app, HerokuEndpoints.User(context), _ => Task.CompletedTask, ct);
            return Results.Json(Shape(view with { State = "deprovisioned" }));
        });

    /// <summary>By name, by our kind or Heroku's service name, or by the Heroku id the list gave.</summary>
    private static string Resolve(HttpContext context, string addon, AddonService addons)
    {
        var app = HerokuEndpoints.Name(context);
        var byHerokuId = context.RequestServices.GetRequiredService<State.IStateStore>().Addons(app).FirstOrDefault(a => HerokuIds.Addon(a.Id) == addon.ToLowerInvariant());
        return byHerokuId?.Id ?? addons.Find(app, addon).Id;
    }

    private static object Shape(AddonView a)
    {
        var service = a.Service == AddonKind.Postgresql.Name ? "heroku-postgresql" : "heroku-redis";
        return new
        {
            id = HerokuIds.Addon(a.Id),
            name = a.Id,
            addon_service = new { id = HerokuIds.AddonService(service), name = service },
            plan = new { id = HerokuIds.AddonService($"{service}:{a.Plan}"), name = $"{service}:{a.Plan}", price = new { cents = 0, unit = "month" } },
            app = HerokuShapes.AppRef(a.App),
            billing_entity = HerokuShapes.AppRef(a.App),
            state = a.State is "available" or "deprovisioned" ? (a.State == "available" ? "provisioned" : "deprovisioned") : "provisioning",
            config_vars = new[] { a.ConfigVar },
            created_at = a.CreatedAt,
            updated_at = a.CreatedAt,
            web_url = (string?)null,
            provider_id = a.Id,
            actions = Array.Empty<object>(),
            billed_price = new { cents = 0, contract = false, unit = "month" },
        };
    }
}
