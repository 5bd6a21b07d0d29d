using Paas.Controller.Auth;
using Paas.Controller.State;
using Paas.Controller.Storage;

namespace Paas.Controller.Api;

/// <summary>Persistent directories for process types: list, mount, unmount.</summary>
public static class StorageEndpoints
{
    public sealed record MountRequest(string? Path, string? Process, bool? Shared);

    public static void MapStorageApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/apps/{name}/storage", (string name, IStateStore db, StorageService storage) =>
            db.FindApp(name) is null ? AppsEndpoints.NotFound(name) : Results.Json(storage.List(name).Select(View)))
            .WithName("listStorage").WithSummary("The app's volume mounts");
        api.MapPost("/apps/{name}/storage", (string name, MountRequest? body, IStateStore db, StorageService storage, HttpContext context, CancellationToken ct) =>
            db.FindApp(name) is null ? Task.FromResult(AppsEndpoints.NotFound(name))
            : string.IsNullOrWhiteSpace(body?.Path) ? Task.FromResult(ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_body", "Send {\"path\": \"/data\"} (and optionally \"process\", \"shared\")."))
            : AnswerAsync(async () => Outcome(await storage.MountAsync(name, body.Path, body.Process, body.Shared ?? false, Caller.Of(context).Name, ct), StatusCodes.Status201Created)))
            .WithName("mountStorage").WithSummary("Mount a persistent directory into a process type's instances (they restart one at a time)");
        api.MapDelete("/apps/{name}/storage", (string name, string? path, string? process, IStateStore db, StorageService storage, HttpContext context, CancellationToken ct) =>
            db.FindApp(name) is null ? Task.FromResult(AppsEndpoints.NotFound(name))
            : string.IsNullOrWhiteSpace(path) ? Task.FromResult(ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_path", "Say which mount: ?path=/data."))
            : AnswerAsync(async () => Outcome(await storage.UnmountAsync(name, path, process, Caller.Of(context).Name, ct), StatusCodes.Status200OK)))
            .WithName("unmountStorage").WithSummary("Remove a mount (the data stays in the volume on its cell)");
    }

    private static object View(VolumeRecord v) => new
    {
        process = v.Process, path = v.Path, volume = v.Volume, cell = v.Cell, shared = v.Shared, created_at = v.CreatedAt,
    };

    private static IResult Outcome(StorageService.MountOutcome outcome, int status) =>
        Results.Json(new { volume = View(outcome.Volume), restarted = outcome.Restarted, problems = outcome.Problems }, statusCode: status);

    private static async Task<IResult> AnswerAsync(Func<Task<IResult>> act)
    {
        try
        {
            return await act();
        }
        catch (StorageException e)
        {
            return ApiError.Result(e.Status, e.Id, e.Message);
        }
    }
}
