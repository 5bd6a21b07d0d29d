using Paas.Controller.Addons;
using Paas.Controller.Auth;
using Paas.Controller.Releases;

namespace Paas.Controller.Api;

/// <summary>Add-ons: list, create, destroy (with the app's name as confirmation), and a client session in the server.</summary>
public static class AddonsEndpoints
{
    public sealed record CreateRequest(string? Service);

    public sealed record AttachRequest(string? Addon, string? As);

    public sealed record ScheduleRequest(string? At, int? Retention);

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
        // {name} is the app that gets the add-on; the caller must also see the app that owns it.
        api.MapPost("/apps/{name}/addons/attachments", (string name, AttachRequest? body, HttpContext context, AddonService addons, AppAccess access, Paas.Controller.State.IStateStore db, CancellationToken ct) =>
            db.FindApp(name) is null ? Task.FromResult(AppsEndpoints.NotFound(name))
            : string.IsNullOrWhiteSpace(body?.Addon) ? Task.FromResult(ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_body", "Send {\"addon\": \"ADDON-ID\"} (and optionally \"as\": \"VAR\")."))
            : AnswerAsync(async () => Results.Json(await addons.AttachAsync(name, body.Addon, string.IsNullOrWhiteSpace(body.As) ? null : body.As,
                owner => access.CanSee(Caller.Of(context), owner), Caller.Of(context).Name, _ => Task.CompletedTask, ct), statusCode: StatusCodes.Status201Created)));
        api.MapDelete("/apps/{name}/addons/attachments/{addon}", (string name, string addon, HttpContext context, AddonService addons, CancellationToken ct) =>
            AnswerAsync(async () =>
            {
                await addons.DetachAsync(name, addon, Caller.Of(context).Name, _ => Task.CompletedTask, ct);
                return Results.NoContent();
            }));
        api.MapPost("/apps/{name}/addons/client", (string name, ClientRequest? body, AddonService addons, CancellationToken ct) =>
            AnswerAsync(async () => Results.Json(await addons.ClientAsync(name, body?.Kind ?? "postgresql", body?.Command, body?.Input, ct))));
    }

    public static void MapBackupsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/apps/{name}/backups", (string name, AddonBackups backups) => Results.Json(backups.List(name)));
        api.MapGet("/apps/{name}/backups/schedule", (string name, AddonBackups backups, TimeProvider time) =>
            AnswerAsync(() => Task.FromResult(Results.Json(new { schedule = ScheduleView(backups.Schedule(name), time) }))));
        api.MapPut("/apps/{name}/backups/schedule", (string name, ScheduleRequest? body, HttpContext context, AddonBackups backups, TimeProvider time) =>
            AnswerAsync(() => Task.FromResult(string.IsNullOrWhiteSpace(body?.At)
                ? ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_body", "Send {\"at\": \"02:00\"} (UTC; and optionally \"retention\": N).")
                : Results.Json(new { schedule = ScheduleView(backups.SetSchedule(name, body.At, body.Retention, Caller.Of(context).Name), time) }))));
        api.MapDelete("/apps/{name}/backups/schedule", (string name, HttpContext context, AddonBackups backups) =>
            AnswerAsync(() => Task.FromResult(backups.Unschedule(name, Caller.Of(context).Name)
                ? Results.NoContent()
                : ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"{name} has no backup schedule."))));
        // NDJSON: {"progress"} lines about once a second while the dump streams in, then {"backup"} or {"error"}.
        api.MapPost("/apps/{name}/backups", async (string name, HttpContext context, AddonBackups backups, CancellationToken ct) =>
        {
            context.Response.ContentType = "application/x-ndjson";
            await context.Response.StartAsync(ct);
            async Task WriteAsync(object line)
            {
                await context.Response.WriteAsync(System.Text.Json.JsonSerializer.Serialize(line) + "\n", ct);
                await context.Response.Body.FlushAsync(ct);
            }
            try
            {
                var backup = await backups.CaptureAsync(name, Caller.Of(context).Name, line => WriteAsync(new { progress = line }), ct);
                await WriteAsync(new { backup });
            }
            catch (AddonException e)
            {
                await WriteAsync(new { error = e.Message });
            }
        });
        api.MapPost("/apps/{name}/backups/{id}/restore", (string name, string id, string? confirm, HttpContext context, AddonBackups backups, CancellationToken ct) =>
            AnswerAsync(async () => confirm != name
                ? ApiError.Result(StatusCodes.Status409Conflict, "confirmation_required", $"Restoring {id} replaces everything in {name}'s database; confirm with --confirm {name}.")
                : Results.Json(await backups.RestoreAsync(name, id, Caller.Of(context).Name, ct))));
        api.MapGet("/apps/{name}/backups/{id}/download", (string name, string id, AddonBackups backups) =>
            AnswerAsync(() => Task.FromResult(Results.File(backups.PathOf(name, id), "application/octet-stream", $"{name}-{id}.dump"))));
    }

    private static object? ScheduleView(BackupSchedule? schedule, TimeProvider time)
    {
        if (schedule is null)
            return null;
        var now = time.GetUtcNow();
        var next = schedule.Due(now) ?? NextAfter(schedule, now);
        return new { at = schedule.At, retention = schedule.Retention, last_run = schedule.LastRun, next_run = next };
    }

    /// <summary>The next daily time after now (the one due now, if any, is returned by Due).</summary>
    private static DateTimeOffset NextAfter(BackupSchedule schedule, DateTimeOffset now)
    {
        var time = BackupSchedule.ParseAt(schedule.At)!.Value;
        var today = new DateTimeOffset(DateOnly.FromDateTime(now.UtcDateTime).ToDateTime(time), TimeSpan.Zero);
        return today > now ? today : today.AddDays(1);
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
