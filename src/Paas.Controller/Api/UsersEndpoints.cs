using Paas.Controller.Auth;
using Paas.Controller.State;

namespace Paas.Controller.Api;

/// <summary>Operators manage users: create one (with a first token, shown once), list, remove.</summary>
public static class UsersEndpoints
{
    public sealed record CreateUserRequest(string? Name, string? Role);

    public static void MapUsersApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/users", (HttpContext context, IStateStore db) =>
            !Caller.Of(context).IsAdmin
                ? ApiAuthorization.OperatorsOnly("list users")
                : Paging.Page(context, db.ListUsers(), u => u.Name, u => new { name = u.Name, role = u.Role, created_at = u.CreatedAt }));
        api.MapPost("/users", Create);
        api.MapDelete("/users/{user}", Delete);
    }

    private static IResult Create(CreateUserRequest? body, HttpContext context, IStateStore db, TokenService tokens)
    {
        var caller = Caller.Of(context);
        if (!caller.IsAdmin)
            return ApiAuthorization.OperatorsOnly("create users");
        var name = body?.Name?.Trim();
        if (UserName.Validate(name) is { } problem)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_name", problem);
        var role = string.IsNullOrEmpty(body?.Role) ? TokenService.UserRole : body.Role;
        if (role is not (TokenService.UserRole or TokenService.AdminRole))
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_role", $"'{role}' is not a role: use '{TokenService.UserRole}' or '{TokenService.AdminRole}'.");
        if (!db.TryCreateUser(name!, role))
            return ApiError.Result(StatusCodes.Status409Conflict, "name_taken", $"A user named '{name}' already exists.");
        var (token, id) = tokens.Issue(name!, "first token, issued by " + caller.Name);
        return Results.Json(new { name, role, token, token_id = id }, statusCode: StatusCodes.Status201Created);
    }

    private static IResult Delete(string user, HttpContext context, IStateStore db)
    {
        var caller = Caller.Of(context);
        if (!caller.IsAdmin)
            return ApiAuthorization.OperatorsOnly("remove users");
        if (user == caller.Name)
            return ApiError.Result(StatusCodes.Status409Conflict, "self", "You cannot remove your own user; ask another operator.");
        if (db.FindUser(user) is null)
            return ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"No user named '{user}' exists.");
        var owned = db.ListApps().Where(a => a.Owner == user).Select(a => a.Name).ToList();
        if (owned.Count > 0)
            return ApiError.Result(StatusCodes.Status409Conflict, "owns_apps", $"{user} still owns {string.Join(", ", owned)}: destroy those apps first.");
        db.DeleteUser(user);
        return Results.NoContent();
    }
}
