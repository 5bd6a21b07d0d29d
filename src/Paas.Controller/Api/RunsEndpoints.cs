using System.Text.Json;
using System.Text.Json.Serialization;
using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Runs;
using Paas.Staging.OneOff;
using Paas.Staging;

namespace Paas.Controller.Api;

/// <summary>
/// `paas run`: one command in a one-off container of the app's current release, with its config. The answer is
/// NDJSON flushed a line at a time: {"line": ...} for each output line, then one {"exit_code": ...} (or {"error": ...}).
/// </summary>
public static class RunsEndpoints
{
    public const string ContentType = "application/x-ndjson";
    public sealed record RunRequest(
        [property: JsonPropertyName("command")] string? Command,
        [property: JsonPropertyName("timeout_seconds")] int? TimeoutSeconds);

    public static void MapRunsApi(this IEndpointRouteBuilder api)
    {
        api.MapPost("/apps/{name}/runs", RunAsync)
            .WithName("runCommand")
            .WithSummary("Run a one-off command in a container of the app's current release")
            .WithDescription("Streams NDJSON: {\"line\": ...} per output line, then {\"exit_code\": N, \"timed_out\": bool, \"out_of_memory\": bool}.")
            .Produces(StatusCodes.Status200OK, contentType: ContentType);
        api.MapGet("/apps/{name}/runs/tty", RunInteractiveAsync)
            .WithName("runCommandInteractively")
            .WithSummary("Run a one-off command with a terminal (WebSocket)")
            .WithDescription("A WebSocket (Paas.Core.Runs.TerminalSession): the first text message is {\"command\", \"timeout_seconds\", \"cols\", \"rows\", \"term\"}; "
                + "then binary messages are keystrokes in and the TTY's bytes out, a text message {\"cols\", \"rows\"} resizes; the last text message is "
                + "{\"exit_code\", \"timed_out\", \"out_of_memory\", ...} or {\"error\"}.");
        api.MapPost("/apps/{name}/runs/detached", StartDetached)
            .WithName("runDetached")
            .WithSummary("Start a one-off command without attaching: its output goes to the app's logs as run.N")
            .WithDescription("Answers 202 {\"name\": \"run.N\"} at once; `paas logs -d run.N` shows the output and how it ended.");
    }

    /// <summary>
    /// `paas run` from a terminal: the same checks and event as <see cref="RunAsync"/>, the user's WebSocket joined to a
    /// TTY in the one-off container on a cell. Refusals before the upgrade are ordinary API errors; after it, {"error"}.
    /// </summary>
    private static async Task<IResult> RunInteractiveAsync(string name, IStateStore db, Runs.OneOffRuns runs, PaasSettings settings,
        HttpContext context, CancellationToken ct)
    {
        if (Unrunnable(name, db, out var release) is { } refused)
            return refused;
        if (!context.WebSockets.IsWebSocketRequest)
            return ApiError.Result(StatusCodes.Status400BadRequest, "websocket_required", "This is a WebSocket: `paas run` opens it when its input is a terminal.");
        var actor = ProcessEndpoints.Actor(context);
        using var terminal = await context.WebSockets.AcceptWebSocketAsync();
        if (await TerminalSession.ReceiveJsonAsync<TerminalSession.Start>(terminal, ct) is not { } start)
        {
            await EndAsync(terminal, new { error = "The session did not start with its command." }, ct);
            return Results.Empty;
        }
        var (command, limit, _, problem) = runs.Check(start.Command, start.TimeoutSeconds);
        if (problem is not null)
        {
            await EndAsync(terminal, new { error = problem }, ct);
            return Results.Empty;
        }
        var term = Runs.OneOffRuns.Term(start.Term);
        var run = new Runs.RunStart(name, actor, release, command, limit, release.Config);
        await runs.RecordAsync(run, " interactively", "the terminal went away",
            () => runs.Runner.RunInteractiveAsync(release, Runs.OneOffRuns.Kind, command, release.Config, settings.AppMemoryBytes, limit, term,
                start.Columns, start.Rows, terminal, ct),
            result => EndAsync(terminal, runs.EndOf(result, limit), ct),
            error => EndAsync(terminal, new { error }, ct));
        return Results.Empty;
    }

    private static async Task EndAsync(System.Net.WebSockets.WebSocket terminal, object end, CancellationToken ct)
    {
        try
        {
            await TerminalSession.SendJsonAsync(terminal, end, ct);
            await terminal.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "", ct);
        }
        catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or OperationCanceledException or IOException)
        {
            // Gone already.
        }
    }

    /// <summary>Heroku's run:detached (<see cref="Runs.OneOffRuns.StartDetached"/>): answers 202 with the run's name at once.</summary>
    private static IResult StartDetached(string name, RunRequest? body, IStateStore db, Runs.OneOffRuns runs, HttpContext context)
    {
        if (Requested(name, body, db, runs, context, out var run) is { } refused)
            return refused;
        var started = runs.StartDetached(run);
        return Results.Json(new { name = started, command = run.Command, release = run.Release.Version }, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> RunAsync(string name, RunRequest? body, IStateStore db, Runs.OneOffRuns runs, HttpContext context, CancellationToken ct)
    {
        if (Requested(name, body, db, runs, context, out var run) is { } refused)
            return refused;

        var response = context.Response;
        response.ContentType = ContentType;
        // The headers go out before the container starts, so the client knows the run was accepted even if the command is silent.
        await response.StartAsync(ct);
        // Only the command's own lines reach the user's stdout; getting the image onto the cell is not its output.
        await runs.RunAsync(run, "", "the client went away",
            line => WriteAsync(response, new { line }, ct),
            result => WriteAsync(response, runs.EndOf(result, run.Limit), ct),
            error => WriteAsync(response, new { error }, ct), ct);
        return Results.Empty;
    }

    /// <summary>Why the app cannot run anything yet (no such app, nothing pushed), as an API error; null when it can.</summary>
    private static IResult? Unrunnable(string name, IStateStore db, out ReleaseRecord release)
    {
        release = null!;
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        if (db.CurrentRelease(name) is not { } current)
            return ApiError.Result(StatusCodes.Status404NotFound, "no_release", $"{name} has no release yet: push first (git push paas main).");
        release = current;
        return null;
    }

    /// <summary>The run a request body asks for, or the API error refusing it (the app's, then the command's).</summary>
    private static IResult? Requested(string name, RunRequest? body, IStateStore db, Runs.OneOffRuns runs, HttpContext context, out Runs.RunStart run)
    {
        run = null!;
        if (Unrunnable(name, db, out var release) is { } refused)
            return refused;
        var (command, limit, problemId, problem) = runs.Check(body?.Command, body?.TimeoutSeconds);
        if (problem is not null)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, problemId, problem);
        run = new Runs.RunStart(name, ProcessEndpoints.Actor(context), release, command, limit, release.Config);
        return null;
    }

    private static async Task WriteAsync(HttpResponse response, object value, CancellationToken ct)
    {
        await response.WriteAsync(JsonSerializer.Serialize(value) + "\n", ct);
        await response.Body.FlushAsync(ct);
    }
}
