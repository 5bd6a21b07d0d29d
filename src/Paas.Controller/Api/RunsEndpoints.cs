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
    public const int MaxCommandLength = 16 * 1024;
    /// <summary>DYNO=run.1 in the container, as on Heroku.</summary>
    private const string Kind = "run";

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

    /// <summary>The command and its time limit, or the one sentence saying what is wrong with them.</summary>
    private static (string Command, TimeSpan Limit, string ProblemId, string? Problem) Check(string? given, int? timeoutSeconds, PaasSettings settings)
    {
        var command = given?.Trim();
        if (string.IsNullOrEmpty(command))
            return ("", default, "invalid_command", "Give a command to run, e.g. `paas run -- python3 migrate.py`.");
        if (command.Length > MaxCommandLength)
            return ("", default, "invalid_command", $"The command is longer than {MaxCommandLength} characters.");
        var limit = settings.StagingTimeout;
        if (timeoutSeconds is { } seconds)
        {
            if (seconds <= 0 || TimeSpan.FromSeconds(seconds) > settings.StagingTimeout)
                return ("", default, "invalid_timeout", $"The time limit must be between 1 and {(int)settings.StagingTimeout.TotalSeconds} seconds.");
            limit = TimeSpan.FromSeconds(seconds);
        }
        return (command, limit, "", null);
    }

    private static object EndOf(OneOffResult result, TimeSpan limit, PaasSettings settings) => new
    {
        exit_code = result.ExitCode,
        timed_out = result.TimedOut,
        out_of_memory = result.OutOfMemory,
        time_limit_seconds = (int)limit.TotalSeconds,
        memory_mb = settings.AppMemoryBytes / (1024 * 1024),
    };

    private static string Outcome(OneOffResult result, TimeSpan limit, PaasSettings settings) =>
        result.TimedOut ? $"was stopped after {StagingOptions.Describe(limit)}"
        : result.OutOfMemory ? $"ran out of memory ({settings.AppMemoryBytes / (1024 * 1024)} MB)"
        : $"exited with code {result.ExitCode}";

    /// <summary>
    /// `paas run` from a terminal: the same checks and event as <see cref="RunAsync"/>, the user's WebSocket joined to a
    /// TTY in the one-off container on a cell. Refusals before the upgrade are ordinary API errors; after it, {"error"}.
    /// </summary>
    private static async Task<IResult> RunInteractiveAsync(string name, IStateStore db, Tasks.OneOffTasks runner, PaasSettings settings,
        HttpContext context, ILoggerFactory loggers, CancellationToken ct)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        if (db.CurrentRelease(name) is not { } release)
            return ApiError.Result(StatusCodes.Status404NotFound, "no_release", $"{name} has no release yet: push first (git push paas main).");
        if (!context.WebSockets.IsWebSocketRequest)
            return ApiError.Result(StatusCodes.Status400BadRequest, "websocket_required", "This is a WebSocket: `paas run` opens it when its input is a terminal.");
        var actor = ProcessEndpoints.Actor(context);
        using var terminal = await context.WebSockets.AcceptWebSocketAsync();
        if (await TerminalSession.ReceiveJsonAsync<TerminalSession.Start>(terminal, ct) is not { } start)
        {
            await EndAsync(terminal, new { error = "The session did not start with its command." }, ct);
            return Results.Empty;
        }
        var (command, limit, problemId, problem) = Check(start.Command, start.TimeoutSeconds, settings);
        if (problem is not null)
        {
            await EndAsync(terminal, new { error = problem }, ct);
            return Results.Empty;
        }
        var term = start.Term is { Length: > 0 and <= 64 } t && t.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') ? t : "xterm";
        string outcome = "was cancelled (the terminal went away)";
        var ranOn = "";
        try
        {
            var (result, cell) = await runner.RunInteractiveAsync(release, Kind, command, release.Config, settings.AppMemoryBytes, limit, term,
                start.Columns, start.Rows, terminal, ct);
            ranOn = $" (cell {cell})";
            outcome = Outcome(result, limit, settings);
            await EndAsync(terminal, EndOf(result, limit, settings), ct);
        }
        catch (OperationCanceledException)
        {
            // The user closed the terminal: the cell removed the container, and there is no one left to answer.
        }
        catch (Exception e) when (e is Cells.CellTaskException or Cells.CellUnavailableException or Instances.DeployException)
        {
            outcome = "could not start";
            loggers.CreateLogger(typeof(RunsEndpoints)).LogWarning("Interactive run for {App} failed: {Error}", name, e.Message);
            await EndAsync(terminal, new { error = $"The one-off container could not be run: {e.Message.TrimEnd('.')}." }, ct);
        }
        finally
        {
            db.AddEvent(name, actor, "run", $"Ran `{Shorten(command)}` interactively on v{release.Version}: {outcome}{ranOn}");
        }
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

    /// <summary>
    /// Heroku's run:detached: the run starts and the answer comes back at once; the run outlives the request (it stops
    /// with the controller), its lines go to the app's logs tagged run.N, and how it ended to the logs and events.
    /// </summary>
    private static IResult StartDetached(string name, RunRequest? body, IStateStore db, Tasks.OneOffTasks runner, PaasSettings settings,
        Paas.Core.Logs.AppLogWriter logs, IHostApplicationLifetime lifetime, HttpContext context, ILoggerFactory loggers)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        if (db.CurrentRelease(name) is not { } release)
            return ApiError.Result(StatusCodes.Status404NotFound, "no_release", $"{name} has no release yet: push first (git push paas main).");
        var (command, limit, problemId, problem) = Check(body?.Command, body?.TimeoutSeconds, settings);
        if (problem is not null)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, problemId, problem);
        // Numbered by the state store: never handed out twice, after a controller restart or by another controller.
        var run = $"{Kind}.{db.NextRunNumber(name)}";
        var actor = ProcessEndpoints.Actor(context);
        var stopping = lifetime.ApplicationStopping;
        _ = Task.Run(async () =>
        {
            string outcome;
            try
            {
                var (result, cell) = await runner.RunAsync(release, Kind, command, release.Config, settings.AppMemoryBytes, limit,
                    line => { logs.Post(name, Paas.Core.Logs.LogSource.App, run, line); return Task.CompletedTask; }, _ => Task.CompletedTask, stopping);
                outcome = Outcome(result, limit, settings) + $" (cell {cell})";
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                outcome = "was stopped (the controller stopped)";
            }
            catch (Exception e) when (e is Cells.CellTaskException or Cells.CellUnavailableException or Instances.DeployException)
            {
                outcome = $"could not start: {e.Message.TrimEnd('.')}";
                loggers.CreateLogger(typeof(RunsEndpoints)).LogWarning("Detached run for {App} failed: {Error}", name, e.Message);
            }
            logs.Post(name, Paas.Core.Logs.LogSource.Platform, run, $"{run} {outcome}");
            try
            {
                db.AddEvent(name, actor, "run", $"Ran `{Shorten(command)}` detached as {run} on v{release.Version}: {outcome}");
            }
            catch (StateStoreUnavailableException)
            {
                // The log line above already says how it ended.
            }
        }, CancellationToken.None);
        return Results.Json(new { name = run, command, release = release.Version }, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> RunAsync(string name, RunRequest? body, IStateStore db, Tasks.OneOffTasks runner, PaasSettings settings,
        HttpContext context, ILoggerFactory loggers, CancellationToken ct)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        if (db.CurrentRelease(name) is not { } release)
            return ApiError.Result(StatusCodes.Status404NotFound, "no_release", $"{name} has no release yet: push first (git push paas main).");
        var (command, limit, problemId, problem) = Check(body?.Command, body?.TimeoutSeconds, settings);
        if (problem is not null)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, problemId, problem);

        var actor = ProcessEndpoints.Actor(context);
        var response = context.Response;
        response.ContentType = ContentType;
        // The headers go out before the container starts, so the client knows the run was accepted even if the command is silent.
        await response.StartAsync(ct);
        string outcome = "was cancelled (the client went away)";
        var ranOn = "";
        try
        {
            // Only the command's own lines reach the user's stdout; getting the image onto the cell is not its output.
            var (result, cell) = await runner.RunAsync(release, Kind, command, release.Config, settings.AppMemoryBytes, limit,
                line => WriteAsync(response, new { line }, ct), _ => Task.CompletedTask, ct);
            ranOn = $" (cell {cell})";
            outcome = Outcome(result, limit, settings);
            await WriteAsync(response, EndOf(result, limit, settings), ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away (Ctrl-C): the runner has removed the container, and there is no one left to answer.
        }
        catch (Exception e) when (e is Cells.CellTaskException or Cells.CellUnavailableException or Instances.DeployException)
        {
            outcome = "could not start";
            loggers.CreateLogger(typeof(RunsEndpoints)).LogWarning("One-off run for {App} failed: {Error}", name, e.Message);
            await WriteAsync(response, new { error = $"The one-off container could not be run: {e.Message.TrimEnd('.')}." }, ct);
        }
        finally
        {
            db.AddEvent(name, actor, "run", $"Ran `{Shorten(command)}` on v{release.Version}: {outcome}{ranOn}");
        }
        return Results.Empty;
    }

    private static async Task WriteAsync(HttpResponse response, object value, CancellationToken ct)
    {
        await response.WriteAsync(JsonSerializer.Serialize(value) + "\n", ct);
        await response.Body.FlushAsync(ct);
    }

    private static string Shorten(string command)
    {
        var oneLine = command.ReplaceLineEndings(" ");
        return oneLine.Length <= 80 ? oneLine : oneLine[..77] + "...";
    }
}
