using System.Text;
using System.Text.Json;
using Paas.Controller.Api;
using Paas.Controller.Instances;
using Paas.Controller.State;
using Paas.Core.Logs;

namespace Paas.Controller.Dashboard;

/// <summary>
/// Server-sent events for the dashboard's live views, under /v1 (so the API's authorization applies):
/// <c>/apps/{name}/ps/events</c> sends the `paas ps` listing whenever it changes, and
/// <c>/apps/{name}/logs/events</c> the recent log lines, then every new one.
/// </summary>
public static class DashboardStreams
{
    public static readonly TimeSpan PsInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static void MapDashboardStreams(this IEndpointRouteBuilder api)
    {
        api.MapGet("/apps/{name}/ps/events", ProcessesAsync).WithName("streamInstances")
            .WithSummary("Server-sent events: the app's instances (as `ps` lists them) each time they change");
        api.MapGet("/apps/{name}/logs/events", LogsAsync).WithName("streamLogs")
            .WithSummary("Server-sent events: the app's last log lines, then each new one (?source=app|router|platform|build)");
    }

    private static async Task<IResult> ProcessesAsync(HttpContext context, string name, IStateStore db, InstanceManager instances,
        CrashTracker crashes, TimeProvider time)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        var aborted = context.RequestAborted;
        Begin(context.Response);
        string? last = null;
        var quietSince = time.GetTimestamp();
        try
        {
            while (!aborted.IsCancellationRequested)
            {
                var json = JsonSerializer.Serialize(await ProcessEndpoints.DescribeInstancesAsync(name, db, instances, crashes, aborted));
                if (json != last)
                {
                    await SendAsync(context.Response, "ps", json, aborted);
                    last = json;
                    quietSince = time.GetTimestamp();
                }
                else if (time.GetElapsedTime(quietSince) >= KeepAlive)
                {
                    // A comment line: proxies and browsers keep a silent stream open.
                    await context.Response.WriteAsync(": keep-alive\n\n", aborted);
                    await context.Response.Body.FlushAsync(aborted);
                    quietSince = time.GetTimestamp();
                }
                await Task.Delay(PsInterval, time, aborted);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && aborted.IsCancellationRequested)
        {
            // The page was closed or left: that is how a stream ends.
        }
        return Results.Empty;
    }

    private static async Task<IResult> LogsAsync(HttpContext context, string name, string? source, IStateStore db, AppLogReader reader)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        if (source is { Length: > 0 } && !LogSource.IsKnown(source))
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_source", $"source must be one of {string.Join(", ", LogSource.All)}.");
        var filter = new AppLogFilter(source is { Length: > 0 } ? source : null, null);
        var aborted = context.RequestAborted;
        var (history, lastId) = await reader.ReadLastAsync(name, 100, filter);
        Begin(context.Response);
        try
        {
            foreach (var line in history)
                await SendAsync(context.Response, "log", Line(line), aborted);
            await context.Response.WriteAsync(": history sent\n\n", aborted);
            await context.Response.Body.FlushAsync(aborted);
            await foreach (var line in reader.FollowAsync(name, lastId, filter, aborted))
                await SendAsync(context.Response, "log", Line(line), aborted);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && aborted.IsCancellationRequested)
        {
        }
        return Results.Empty;
    }

    private static string Line(AppLogLine line) =>
        JsonSerializer.Serialize(new { id = line.Id, time = line.Time, source = line.Source, process = line.Process, line = line.Text });

    private static void Begin(HttpResponse response)
    {
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    // JSON has no raw newlines, so one `data:` line carries one event.
    private static async Task SendAsync(HttpResponse response, string kind, string json, CancellationToken ct)
    {
        await response.WriteAsync($"event: {kind}\ndata: {json}\n\n", Encoding.UTF8, ct);
        await response.Body.FlushAsync(ct);
    }
}
