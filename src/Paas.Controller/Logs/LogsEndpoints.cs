using System.Text.Json;
using Paas.Controller.Api;
using Paas.Controller.State;
using Paas.Core.Logs;

namespace Paas.Controller.Logs;

/// <summary>
/// <c>GET /v1/apps/{name}/logs</c>: the app's recent log lines as NDJSON (one JSON object per line), and
/// with <c>tail=true</c> every new line after them, each flushed as it arrives, until the client hangs up.
/// </summary>
public static class LogsEndpoints
{
    public const int DefaultLines = 100;
    public const int MaxLines = 1500;
    private const int MaxProcessLength = 64;

    public static void MapLogsApi(this IEndpointRouteBuilder api) =>
        api.MapGet("/apps/{name}/logs", StreamAsync);

    private static async Task<IResult> StreamAsync(HttpContext context, string name, IStateStore db, AppLogReader reader,
        int? lines, string? source, string? ps, bool? tail)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        var count = lines ?? DefaultLines;
        if (count is < 1 or > MaxLines)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_lines", $"lines must be between 1 and {MaxLines}.");
        if (source is { Length: > 0 } && !LogSource.IsKnown(source))
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_source", $"source must be one of {string.Join(", ", LogSource.All)}.");
        if (ps is { Length: > MaxProcessLength })
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_ps", "ps must name one process, such as web.1.");
        var filter = new AppLogFilter(source is { Length: > 0 } ? source : null, ps is { Length: > 0 } ? ps : null);

        var (history, lastId) = await reader.ReadLastAsync(name, count, filter);
        var response = context.Response;
        response.ContentType = "application/x-ndjson; charset=utf-8";
        // Proxies in front of the API must pass lines through as they come, not buffer the stream.
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        var aborted = context.RequestAborted;
        try
        {
            foreach (var line in history)
                await WriteAsync(response, line, aborted);
            await response.Body.FlushAsync(aborted);
            if (tail == true)
            {
                await foreach (var line in reader.FollowAsync(name, lastId, filter, aborted))
                {
                    await WriteAsync(response, line, aborted);
                    await response.Body.FlushAsync(aborted);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && aborted.IsCancellationRequested)
        {
            // The client stopped reading (Ctrl-C on `paas logs --tail`): that is how a tail ends.
        }
        return Results.Empty;
    }

    private static async Task WriteAsync(HttpResponse response, AppLogLine line, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new
        {
            id = line.Id,
            time = line.Time,
            source = line.Source,
            process = line.Process,
            line = line.Text,
        });
        await response.Body.WriteAsync(bytes, cancellationToken);
        await response.Body.WriteAsync("\n"u8.ToArray(), cancellationToken);
    }
}
