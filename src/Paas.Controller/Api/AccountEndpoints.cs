using Paas.Controller.Auth;
using Paas.Controller.State;

namespace Paas.Controller.Api;

/// <summary>The caller's own account and API tokens: who am I, and create, list, revoke my tokens.</summary>
public static class AccountEndpoints
{
    public sealed record CreateTokenRequest(string? Description);

    public static void MapAccountApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/account", (HttpContext context, IStateStore db) =>
        {
            var caller = Caller.Of(context);
            var user = db.FindUser(caller.Name);
            return Results.Json(new { name = caller.Name, role = caller.Role, created_at = user?.CreatedAt, token_id = caller.TokenId });
        });
        api.MapGet("/account/tokens", (HttpContext context, IStateStore db) =>
        {
            var caller = Caller.Of(context);
            return Paging.Page(context, db.ListTokens(caller.Name), t => t.Id,
                t => new { id = t.Id, description = t.Description, created_at = t.CreatedAt, current = t.Id == caller.TokenId });
        });
        api.MapPost("/account/tokens", (CreateTokenRequest? body, HttpContext context, TokenService tokens) =>
        {
            var description = body?.Description?.Trim() ?? "";
            if (description.Length > 200)
                return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_description", "A token description is at most 200 characters.");
            var caller = Caller.Of(context);
            var (token, id) = tokens.Issue(caller.Name, description);
            return Results.Json(new { id, token, description, user = caller.Name }, statusCode: StatusCodes.Status201Created);
        });
        api.MapDelete("/account/tokens/{id}", (string id, HttpContext context, IStateStore db) =>
            db.DeleteToken(Caller.Of(context).Name, id)
                ? Results.NoContent()
                : ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"You have no token with id '{id}'; see `paas tokens`."));
    }
}
