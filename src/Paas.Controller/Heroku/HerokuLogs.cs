using Paas.Controller.Api;
using Paas.Core.Logs;

namespace Paas.Controller.Heroku;

/// <summary>Heroku log sessions: POST hands out a one-time URL, which streams the log as server-sent events.</summary>
public static class HerokuLogs
{
    public const string LogStreamPath = "/heroku/log-streams";
    public const int MaxLogLines = 1500;

    public sealed record LogSessionRequest(int? Lines, string? Source, string? Dyno, bool? Tail);

    internal static IResult CreateLogSession(HttpContext context, LogSessionRequest? body, HerokuLogSessions sessions, TimeProvider time)
    {
        var lines = body?.Lines ?? 100;
        if (lines is < 1 or > MaxLogLines)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_params", $"lines must be between 1 and {MaxLogLines}.");
        if (NullIfEmpty(body?.Source) is { } source && !LogSource.IsKnown(source))
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_params", $"source must be one of {string.Join(", ", LogSource.All)}.");
        var query = new HerokuLogQuery(lines, NullIfEmpty(body?.Source), NullIfEmpty(body?.Dyno), body?.Tail == true);
        var id = sessions.Create(HerokuEndpoints.Name(context), query);
        var now = time.GetUtcNow();
        // The URL the CLI used to reach this API reaches the stream too.
        var url = $"{context.Request.Scheme}://{context.Request.Host}{LogStreamPath}/{id}";
        return Results.Json(new { id, logplex_url = url, created_at = now, updated_at = now }, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>The session's log lines as server-sent events, one line per event; the stream ends after the history unless tailing.</summary>
    internal static async Task StreamLogsAsync(HttpContext context, string id, HerokuLogSessions sessions, IHerokuLogSource logs)
    {
        if (sessions.Take(id) is not var (app, query))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync("This log session does not exist or has expired.\n");
            return;
        }
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        var aborted = context.RequestAborted;
        try
        {
            await context.Response.Body.FlushAsync(aborted);
            await foreach (var line in logs.ReadAsync(app, query, aborted))
            {
                await context.Response.WriteAsync($"data: {line.ReplaceLineEndings(" ")}\n\n", aborted);
                await context.Response.Body.FlushAsync(aborted);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && aborted.IsCancellationRequested)
        {
            // The CLI hung up (Ctrl-C on `heroku logs --tail`): that is how a tail ends.
        }
    }

    internal static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
