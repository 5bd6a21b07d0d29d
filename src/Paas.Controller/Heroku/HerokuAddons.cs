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
    public sealed record CreateBody(string? Plan);

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

    public static Task<IResult> CreateAsync(HttpContext context, CreateBody? body, AddonService addons, CancellationToken ct) =>
        AddonsEndpoints.AnswerAsync(async () => Results.Json(Shape(await addons.CreateAsync(HerokuEndpoints.Name(context), body?.Plan ?? "",
            HerokuEndpoints.User(context), _ => Task.CompletedTask, ct)), statusCode: StatusCodes.Status201Created));

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
