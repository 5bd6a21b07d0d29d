using Paas.Controller.Addons;
using Paas.Controller.Auth;
using Paas.Controller.Releases;

namespace Paas.Controller.Api;

/// <summary>Add-ons: list, create, destroy (with the app's name as confirmation), and a client session in the server.</summary>
public static class AddonsEndpoints
{
    public sealed record CreateRequest(string? Service);

    public sealed record ClientRequest(string? Kind, string? Command, string? Input);

    public static void MapAddonsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/apps/{name}/addons", async (string name, AddonService addons, CancellationToken ct) => Results.Json(await addons.ListAsync(name, ct)));
        api.MapGet("/addons", async (HttpContext context, AddonService addons, AppAccess access, CancellationToken ct) =>
        {
            var caller = Caller.Of(context);
            return Results.Json((await addons.ListAsync(null, ct)).Where(a => access.CanSee(caller, a.App)));
        });
        api.MapPost("/apps/{name}/addons", async (string name, CreateRequest? body, HttpContext context, AddonService addons, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(body?.Service))
                return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_body", "Send {\"service\": \"postgresql[:PLAN]\"} or {\"service\": \"redis[:PLAN]\"}.");
            return await AnswerAsync(async () => Results.Json(await addons.CreateAsync(name, body.Service, Caller.Of(context).Name, _ => Task.CompletedTask, ct), statusCode: StatusCodes.Status201Created));
        });
        api.MapDelete("/apps/{name}/addons/{addon}", (string name, string addon, string? confirm, HttpContext context, AddonService addons, CancellationToken ct) =>
            AnswerAsync(async () =>
            {
                await addons.DestroyAsync(name, addon, confirm, Caller.Of(context).Name, _ => Task.CompletedTask, ct);
                return Results.NoContent();
            }));
        api.MapPost("/apps/{name}/addons/client", (string name, ClientRequest? body, AddonService addons, CancellationToken ct) =>
            AnswerAsync(async () => Results.Json(await addons.ClientAsync(name, body?.Kind ?? "postgresql", body?.Command, body?.Input, ct))));
    }

    public static async Task<IResult> AnswerAsync(Func<Task<IResult>> act)
    {
        try
        {
            return await act();
        }
        catch (AddonException e)
        {
            return ApiError.Result(e.Status, e.Id, e.Message);
        }
        catch (ReleaseException e)
        {
            return ReleasesEndpoints.Problem(e);
        }
    }
}
