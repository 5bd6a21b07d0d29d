using Paas.Controller.Auth;
using Paas.Controller.State;

namespace Paas.Controller.Api;

/// <summary>Who besides the owner may work on an app. Only the owner (or an operator) changes the list.</summary>
public static class CollaboratorsEndpoints
{
    public sealed record AddCollaboratorRequest(string? User);

    public static void MapCollaboratorsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/apps/{name}/collaborators", (string name, IStateStore db) =>
        {
            var app = db.FindApp(name)!;
            var people = new[] { new { user = app.Owner, role = "owner" } }
                .Concat(db.Collaborators(name).Select(u => new { user = u, role = "collaborator" }));
            return Results.Json(people);
        });
        api.MapPost("/apps/{name}/collaborators", (string name, AddCollaboratorRequest? body, HttpContext context, IStateStore db, AppAccess access) =>
        {
            var caller = Caller.Of(context);
            if (access.LevelOf(caller, name) != AccessLevel.Owner)
                return ApiAuthorization.OwnerOnly(name, "add collaborators");
            var user = body?.User?.Trim() ?? "";
            if (UserName.Validate(user) is { } problem)
                return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_name", problem);
            if (db.FindUser(user) is null)
                return ApiError.Result(StatusCodes.Status404NotFound, "no_such_user", $"No user named '{user}' exists; an operator creates users with `paas users:create`.");
            if (db.FindApp(name)!.Owner == user || !db.AddCollaborator(name, user))
                return ApiError.Result(StatusCodes.Status409Conflict, "already_collaborator", $"{user} already has access to {name}.");
            db.AddEvent(name, caller.Name, "access", $"Added collaborator {user}");
            return Results.Json(new { user, role = "collaborator" }, statusCode: StatusCodes.Status201Created);
        });
        api.MapDelete("/apps/{name}/collaborators/{user}", (string name, string user, HttpContext context, IStateStore db, AppAccess access) =>
        {
            var caller = Caller.Of(context);
            // Collaborators may leave an app themselves; removing others is the owner's call.
            if (user != caller.Name && access.LevelOf(caller, name) != AccessLevel.Owner)
                return ApiAuthorization.OwnerOnly(name, "remove collaborators");
            if (!db.RemoveCollaborator(name, user))
                return ApiError.Result(StatusCodes.Status404NotFound, "not_collaborator", $"{user} is not a collaborator on {name}.");
            db.AddEvent(name, caller.Name, "access", $"Removed collaborator {user}");
            return Results.NoContent();
        });
    }
}
