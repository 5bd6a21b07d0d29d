using Paas.Controller.Formation;
using Paas.Controller.Instances;
using Paas.Controller.Operations;
using Paas.Core.Api;
using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Instances;
using Paas.Core.Releases;

namespace Paas.Controller.Api;

/// <summary>Formation (scale), instances (ps), restarts and health checks of an app's processes.</summary>
public static class ProcessEndpoints
{
    public sealed record FormationUpdate(string? Process, int? Quantity, string? Size);
    public sealed record ScaleRequest(List<FormationUpdate>? Updates);
    public sealed record HealthCheckRequest(string? Type, string? Path, int? TimeoutSeconds, int? IntervalSeconds, int? GraceSeconds);

    public static void MapProcessApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/apps/{name}/formation", (string name, IStateStore db, FormationService formation) =>
            db.FindApp(name) is null ? AppsEndpoints.NotFound(name) : Results.Json(DescribeFormation(name, formation)))
            .WithName("getFormation").WithSummary("The app's process types with their quantity and memory size");
        api.MapMethods("/apps/{name}/formation", ["PATCH"], ScaleAsync).WithName("scaleFormation").WithSummary("Scale process types (quantity and/or size) and converge");
        api.MapGet("/apps/{name}/ps", ListAsync).WithName("listInstances").WithSummary("The app's instances as the cells report them");
        api.MapPost("/apps/{name}/ps/restart", RestartAsync).WithName("restartInstances").WithSummary("Restart instances one at a time (all, ?process=TYPE, or one: ?process=TYPE.N)");
        api.MapPost("/apps/{name}/ps/stop", StopInstanceAsync).WithName("stopInstance").WithSummary("Stop one instance (?process=TYPE.N); the formation is unchanged, so the platform starts a replacement");
        api.MapPut("/apps/{name}/healthchecks/{process}", SetHealthCheck).WithName("setHealthCheck").WithSummary("Set how a process type is health-checked");
        api.MapGet("/apps/{name}/events", (string name, int? limit, IStateStore db) =>
            db.FindApp(name) is null
                ? AppsEndpoints.NotFound(name)
                : Results.Json(db.Events(name, Math.Clamp(limit ?? 100, 1, 1000)).Select(e => new { at = e.At, actor = e.Actor, kind = e.Kind, message = e.Message })));
    }

    private static object DescribeFormation(string app, FormationService formation) =>
        formation.Describe(app).Select(f => new { process = f.Process, quantity = f.Quantity, memory_mb = f.MemoryMb, command = f.Command }).ToList();

    private static async Task<IResult> ScaleAsync(string name, ScaleRequest? body, IStateStore db, FormationService formation, InstanceManager instances,
        TimeProvider time, HttpContext context, CancellationToken ct)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        var changes = (body?.Updates ?? []).Select(u => new FormationChange(u.Process, u.Quantity, u.Size)).ToList();
        // Read from the request now: the operation may outlive it (a client that stopped listening).
        var actor = Actor(context);
        if (ProgressStream.IsWanted(context))
            return await ProgressStream.RunAsync(context, name, async stopping =>
            {
                var started = time.GetTimestamp();
                ScaleOutcome outcome;
                try
                {
                    outcome = await formation.ScaleAsync(name, changes, actor, stopping);
                }
                catch (FormationException e)
                {
                    return new OperationOutcome(false, e.Message, null, 0, 0, time.GetElapsedTime(started).TotalSeconds) { Error = e.Id };
                }
                // Counted from what the cells report now, not from what the scale meant to do.
                var release = db.CurrentRelease(name)?.Version;
                var scaled = changes.Select(c => c.Process!).Distinct().ToList();
                var formationNow = db.Formation(name);
                var wanted = scaled.Sum(p => formationNow.TryGetValue(p, out var f) ? f.Quantity : 0);
                var healthy = (await instances.ListAsync(name, stopping)).Count(i => i.Running && i.Release == release && scaled.Contains(i.Process));
                var seconds = time.GetElapsedTime(started).TotalSeconds;
                var what = "Scaled " + string.Join(", ", scaled.Select(p => $"{p} to {(formationNow.TryGetValue(p, out var f) ? f.Quantity : 0)}"));
                return outcome.Problems.Count > 0
                    ? new OperationOutcome(false, string.Join("; ", outcome.Problems.Select(p => p.TrimEnd('.'))) + ".", release, healthy, wanted, seconds) { Error = "scale_incomplete" }
                    : new OperationOutcome(true, $"{what}: {ProgressStream.Health(healthy, wanted, seconds)}", release, healthy, wanted, seconds);
            });
        try
        {
            var outcome = await formation.ScaleAsync(name, changes, Actor(context), ct);
            return Results.Json(new { formation = DescribeFormation(name, formation), started = outcome.Started, stopped = outcome.Stopped, problems = outcome.Problems });
        }
        catch (FormationException e)
        {
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, e.Id, e.Message);
        }
    }

    private static async Task<IResult> ListAsync(string name, IStateStore db, InstanceManager instances, CrashTracker crashes, CancellationToken ct)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        return Results.Json(await DescribeInstancesAsync(name, db, instances, crashes, ct));
    }

    /// <summary>What `paas ps` shows (and the dashboard's live process list streams): the app's instances as the cells report them.</summary>
    public static async Task<List<Paas.Core.Api.InstanceResponse>> DescribeInstancesAsync(string name, IStateStore db, InstanceManager instances, CrashTracker crashes, CancellationToken ct)
    {
        var current = db.CurrentRelease(name)?.Version;
        var list = (await instances.ListAsync(name, ct)).OrderBy(i => i.Process == ProcessType.Web ? 0 : 1).ThenBy(i => i.Process).ThenBy(i => i.Index).ThenBy(i => i.Release);
        return list.Select(i =>
        {
            var crash = crashes.Get(name, i.Process, i.Index);
            return new Paas.Core.Api.InstanceResponse(
                Id: $"{i.Process}.{i.Index}",
                Instance: i.InstanceId,
                Process: i.Process,
                Release: i.Release,
                Cell: i.Cell,
                State: !i.Running ? "crashed" : i.Release != current ? "stopping" : "running",
                Since: i.Since,
                Restarts: crash?.Restarts ?? 0,
                LastCrash: crash is null ? null : new Paas.Core.Api.CrashResponse(crash.CrashedAt, crash.ExitCode, crash.OomKilled),
                MemoryUsedBytes: i.MemoryUsedBytes,
                MemoryLimitBytes: i.MemoryLimitBytes,
                CpuShares: i.CpuShares)
            {
                CpuCores = i.CpuCores,
            };
        }).ToList();
    }

    /// <summary>Restarts a process type (or all, or one instance TYPE.N) one slot at a time, by rolling out the current release again.</summary>
    private static async Task<IResult> RestartAsync(string name, string? process, IStateStore db, InstanceCommands commands, TimeProvider time,
        HttpContext context, CancellationToken ct)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        var actor = Actor(context);
        if (ProgressStream.IsWanted(context))
            return await ProgressStream.RunAsync(context, name, async stopping =>
            {
                var started = time.GetTimestamp();
                var release = db.CurrentRelease(name)?.Version;
                try
                {
                    var restarted = await commands.RestartAsync(name, process, actor, stopping);
                    var seconds = time.GetElapsedTime(started).TotalSeconds;
                    // Each replacement counted here passed its health check before the one it replaced stopped.
                    return new OperationOutcome(true, $"Restarted {process ?? "all processes"}: {ProgressStream.Health(restarted, restarted, seconds)}", release, restarted, restarted, seconds)
                    { Restarted = restarted };
                }
                catch (InstanceCommandException e)
                {
                    return new OperationOutcome(false, e.Message, release, 0, 0, time.GetElapsedTime(started).TotalSeconds) { Error = e.Id, Restarted = 0 };
                }
            });
        try
        {
            return Results.Json(new { restarted = await commands.RestartAsync(name, process, actor, ct) });
        }
        catch (InstanceCommandException e)
        {
            return ApiError.Result(e.Status, e.Id, e.Message);
        }
    }

    /// <summary>Heroku's `ps:stop web.2` (<see cref="InstanceCommands.StopAsync"/>): the platform starts a replacement.</summary>
    private static async Task<IResult> StopInstanceAsync(string name, string? process, IStateStore db, InstanceCommands commands, HttpContext context, CancellationToken ct)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        try
        {
            var stopped = await commands.StopAsync(name, process, Actor(context), ct);
            return Results.Json(new { stopped = $"{stopped.Process}.{stopped.Index}", instance = stopped.InstanceId });
        }
        catch (InstanceCommandException e)
        {
            return ApiError.Result(e.Status, e.Id, e.Message);
        }
    }

    private static IResult SetHealthCheck(string name, string process, HealthCheckRequest body, IStateStore db, HttpContext context)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        if (!ProcessType.IsValid(process))
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "unknown_process", $"'{process}' is not a valid process type.");
        var type = body.Type ?? (body.Path is null ? HealthCheckSpec.Port : HealthCheckSpec.Http);
        if (type is not (HealthCheckSpec.Port or HealthCheckSpec.Http))
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_healthcheck", "A health check is either 'port' or 'http'.");
        if (type == HealthCheckSpec.Http && (body.Path is null || !body.Path.StartsWith('/') || body.Path.Length > 200 || body.Path.Any(char.IsWhiteSpace)))
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_healthcheck", "An HTTP health check needs a path starting with '/', without spaces.");
        var spec = new HealthCheckSpec(type, type == HealthCheckSpec.Http ? body.Path : null,
            Math.Clamp(body.TimeoutSeconds ?? 2, 1, 60), Math.Clamp(body.IntervalSeconds ?? 5, 1, 300), Math.Clamp(body.GraceSeconds ?? 60, 1, 600));
        db.SetHealthCheck(name, process, spec);
        db.AddEvent(name, Actor(context), "healthcheck", $"Health check for {process}: {(spec.Type == HealthCheckSpec.Http ? "GET " + spec.Path : "port")}");
        return Results.Json(spec);
    }

    public static string Actor(HttpContext context) => context.Items["paas.user"] as string ?? "unknown";
}
