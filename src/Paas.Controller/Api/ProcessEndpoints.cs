using System.Globalization;
using System.Text.RegularExpressions;
using Paas.Controller.Instances;
using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Instances;
using Paas.Core.Releases;

namespace Paas.Controller.Api;

/// <summary>Formation (scale), instances (ps), restarts and health checks of an app's processes.</summary>
public static partial class ProcessEndpoints
{
    public const int MaxQuantity = 100;
    public const int MaxMemoryMb = 64 * 1024;

    public sealed record FormationUpdate(string? Process, int? Quantity, string? Size);
    public sealed record ScaleRequest(List<FormationUpdate>? Updates);
    public sealed record HealthCheckRequest(string? Type, string? Path, int? TimeoutSeconds, int? IntervalSeconds, int? GraceSeconds);

    [GeneratedRegex("^([0-9]{1,6})([MG])B?$", RegexOptions.IgnoreCase)]
    private static partial Regex SizePattern();

    public static void MapProcessApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/apps/{name}/formation", (string name, PlatformDatabase db, PaasSettings settings) =>
            db.FindApp(name) is null ? AppsEndpoints.NotFound(name) : Results.Json(DescribeFormation(name, db, settings)))
            .WithName("getFormation").WithSummary("The app's process types with their quantity and memory size");
        api.MapMethods("/apps/{name}/formation", ["PATCH"], ScaleAsync).WithName("scaleFormation").WithSummary("Scale process types (quantity and/or size) and converge");
        api.MapGet("/apps/{name}/ps", ListAsync).WithName("listInstances").WithSummary("The app's instances as the cells report them");
        api.MapPost("/apps/{name}/ps/restart", RestartAsync).WithName("restartInstances").WithSummary("Restart instances one at a time (all, or ?process=TYPE)");
        api.MapPut("/apps/{name}/healthchecks/{process}", SetHealthCheck).WithName("setHealthCheck").WithSummary("Set how a process type is health-checked");
        api.MapGet("/apps/{name}/events", (string name, int? limit, PlatformDatabase db) =>
            db.FindApp(name) is null
                ? AppsEndpoints.NotFound(name)
                : Results.Json(db.Events(name, Math.Clamp(limit ?? 100, 1, 1000)).Select(e => new { at = e.At, actor = e.Actor, kind = e.Kind, message = e.Message })));
    }

    private static object DescribeFormation(string app, PlatformDatabase db, PaasSettings settings)
    {
        var formation = db.Formation(app);
        var types = db.CurrentRelease(app)?.ProcessTypes ?? new Dictionary<string, string>();
        return types.Keys.Union(formation.Keys).OrderBy(p => p == ProcessType.Web ? 0 : 1).ThenBy(p => p, StringComparer.Ordinal).Select(p => new
        {
            process = p,
            quantity = formation.TryGetValue(p, out var f) ? f.Quantity : 0,
            memory_mb = formation.TryGetValue(p, out var g) && g.MemoryMb is { } mb ? mb : settings.AppMemoryBytes / (1024 * 1024),
            command = types.GetValueOrDefault(p),
        }).ToList();
    }

    private static async Task<IResult> ScaleAsync(string name, ScaleRequest? body, PlatformDatabase db, Converger converger, InstanceManager instances, AppLocks locks,
        PaasSettings settings, CellsView cells, HttpContext context, CancellationToken ct)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        var release = db.CurrentRelease(name);
        if (release is null)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "no_release", $"{name} has no release yet: push it before scaling.");
        if (body?.Updates is not { Count: > 0 } updates)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_formation", "Give at least one process type to scale, e.g. web=2.");
        var entries = new List<FormationEntry>();
        foreach (var update in updates)
        {
            if (update.Process is null || !release.ProcessTypes.ContainsKey(update.Process))
                return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "unknown_process",
                    $"{name} has no process type '{update.Process}'; it has {string.Join(", ", release.ProcessTypes.Keys)}.");
            if (update.Process == "release")
                return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "unknown_process", "The release process runs once per deploy and cannot be scaled.");
            if (update.Quantity is < 0 or > MaxQuantity)
                return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_quantity", $"The quantity for {update.Process} must be between 0 and {MaxQuantity}.");
            int? memoryMb = null;
            if (update.Size is { Length: > 0 } size)
            {
                if (SizePattern().Match(size) is not { Success: true } m)
                    return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_size", $"Size '{size}' is not a memory size like 256M or 1G.");
                memoryMb = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * (m.Groups[2].Value.Equals("G", StringComparison.OrdinalIgnoreCase) ? 1024 : 1);
                var largest = await cells.LargestCellMemoryMbAsync();
                if (memoryMb is < 16 or > MaxMemoryMb || memoryMb > largest)
                    return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_size", $"Size {size} fits no cell: sizes go from 16M up to the largest cell's {largest}M.");
            }
            entries.Add(new FormationEntry(update.Process, update.Quantity ?? db.Formation(name).GetValueOrDefault(update.Process)?.Quantity ?? 0, memoryMb));
        }
        using var _ = await locks.AcquireAsync(name, ct);
        db.SetFormation(name, entries);
        db.AddEvent(name, Actor(context), "scale", "Scaled to " + string.Join(", ", entries.Select(e => $"{e.Process}={e.Quantity}{(e.MemoryMb is { } mb ? $":{mb}M" : "")}")));
        // A new size takes effect by replacing the running instances of that type one at a time, before
        // any new ones are added, so the instances already serving get their place first.
        var resized = entries.Where(e => e.MemoryMb is not null).Select(e => e.Process).ToHashSet();
        var stale = (await instances.ListAsync(name, ct))
            .Where(i => i.Running && i.Release == release.Version && resized.Contains(i.Process)
                && i.Index <= db.Formation(name)[i.Process].Quantity && i.MemoryLimitBytes != instances.MemoryBytesFor(name, i.Process))
            .ToList();
        var problems = new List<string>();
        try
        {
            await instances.RollingRestartAsync(release, stale, ct);
        }
        catch (DeployException e)
        {
            problems.Add(e.Message);
        }
        var result = await converger.ConvergeAppAsync(name, _ => Task.CompletedTask, ct);
        problems.AddRange(result.Problems);
        result = result with { Started = result.Started + stale.Count, Stopped = result.Stopped + stale.Count, Problems = Summarize(problems, db.Formation(name)) };
        return Results.Json(new { formation = DescribeFormation(name, db, settings), started = result.Started, stopped = result.Stopped, problems = result.Problems });
    }

    private static async Task<IResult> ListAsync(string name, PlatformDatabase db, InstanceManager instances, CrashTracker crashes, CancellationToken ct)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        var current = db.CurrentRelease(name)?.Version;
        var list = (await instances.ListAsync(name, ct)).OrderBy(i => i.Process == ProcessType.Web ? 0 : 1).ThenBy(i => i.Process).ThenBy(i => i.Index).ThenBy(i => i.Release);
        return Results.Json(list.Select(i =>
        {
            var crash = crashes.Get(name, i.Process, i.Index);
            return new
            {
                id = $"{i.Process}.{i.Index}",
                instance = i.InstanceId,
                process = i.Process,
                release = i.Release,
                cell = i.Cell,
                state = !i.Running ? "crashed" : i.Release != current ? "stopping" : "running",
                since = i.Since,
                restarts = crash?.Restarts ?? 0,
                last_crash = crash is null ? null : new { at = crash.CrashedAt, exit_code = crash.ExitCode, oom_killed = crash.OomKilled },
                memory_used_bytes = i.MemoryUsedBytes,
                memory_limit_bytes = i.MemoryLimitBytes,
            };
        }));
    }

    /// <summary>Restarts a process type (or all) one slot at a time, by rolling out the current release again.</summary>
    private static async Task<IResult> RestartAsync(string name, string? process, PlatformDatabase db, InstanceManager instances, Converger converger,
        AppLocks locks, HttpContext context, CancellationToken ct)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        var release = db.CurrentRelease(name);
        if (release is null)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "no_release", $"{name} has no release yet: push it first.");
        if (process is not null && !release.ProcessTypes.ContainsKey(process))
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "unknown_process", $"{name} has no process type '{process}'.");
        using var _ = await locks.AcquireAsync(name, ct);
        var targets = (await instances.ListAsync(name, ct)).Where(i => i.Running && (process is null || i.Process == process)).ToList();
        int restarted;
        try
        {
            restarted = await instances.RollingRestartAsync(release, targets, ct);
        }
        catch (DeployException e)
        {
            return ApiError.Result(StatusCodes.Status409Conflict, "restart_failed", $"{e.Message}; the instances not yet restarted keep running.");
        }
        db.AddEvent(name, Actor(context), "restart", $"Restarted {(process ?? "all processes")} ({restarted} instance{(restarted == 1 ? "" : "s")})");
        return Results.Json(new { restarted });
    }

    private static IResult SetHealthCheck(string name, string process, HealthCheckRequest body, PlatformDatabase db, HttpContext context)
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

    /// <summary>"web.4 could not be placed: X" for each instance becomes "2 of 5 web instances unplaced: X".</summary>
    private static List<string> Summarize(List<string> problems, IReadOnlyDictionary<string, FormationEntry> formation)
    {
        const string marker = " could not be placed: ";
        var summary = problems.Where(p => !p.Contains(marker, StringComparison.Ordinal)).ToList();
        foreach (var group in problems.Where(p => p.Contains(marker, StringComparison.Ordinal)).GroupBy(p => p[..p.IndexOf('.')]))
        {
            var reason = group.First()[(group.First().IndexOf(marker, StringComparison.Ordinal) + marker.Length)..];
            var wanted = formation.TryGetValue(group.Key, out var f) ? f.Quantity : group.Count();
            summary.Add($"{group.Count()} of {wanted} {group.Key} instances unplaced: {reason}");
        }
        return summary;
    }

    public static string Actor(HttpContext context) => context.Items["paas.user"] as string ?? "unknown";
}
