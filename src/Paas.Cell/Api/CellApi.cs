using Paas.Cell.Addons;
using Paas.Cell.Agent;
using Paas.Core.Addons;
using Paas.Cell.Docker;
using Paas.Core.Cells;
using Paas.Core.Instances;
using Paas.Cell.Tasks;
using Paas.Staging;
using Paas.Staging.Remote;

namespace Paas.Cell.Api;

/// <summary>The agent's HTTP API, through which the controller starts, checks and stops instances on this cell.</summary>
public static class CellApi
{
    public sealed record WaitHealthyRequest(InstanceState Instance, HealthCheckSpec Check, double TimeoutSeconds);

    public sealed record PrepareImageRequest(string Image);

    public sealed record PruneImagesRequest(string App, string[] Keep);

    public sealed record AddonExecRequest(string[] Command, string? Stdin);

    /// <summary>
    /// Streams a task's output and outcome as NDJSON, with ticks while it is quiet; a failure is one {"error"} sentence.
    /// When <paramref name="afterwards"/> then gives work still under way (an image push), its lines and its own outcome
    /// ({"pushed"} or {"push_error"}) follow in the same answer.
    /// </summary>
    private static async Task AnswerTaskAsync(HttpContext context, Func<Func<string, Task>, Task<TaskMessage>> run, ILogger logger, CancellationToken ct,
        Func<Task<string>?>? afterwards = null)
    {
        context.Response.ContentType = TaskStream.ContentType;
        await context.Response.StartAsync(ct);
        await using var writer = new TaskStream.Writer(context.Response.Body);
        writer.StartTicks(ct);
        TaskMessage outcome;
        try
        {
            outcome = await run(line => writer.WriteAsync(new TaskMessage { Line = line }, ct));
        }
        catch (StagingException e)
        {
            outcome = new TaskMessage { Error = e.Message };
        }
        catch (global::Docker.DotNet.DockerApiException e)
        {
            logger.LogWarning("A task failed on the engine: {Reason}", e.Message);
            outcome = new TaskMessage { Error = Paas.Core.Images.EngineError.Reason(e.ResponseBody ?? e.Message) };
        }
        await writer.WriteAsync(outcome, ct);
        if (outcome.Error is null && afterwards?.Invoke() is { } pending)
        {
            TaskMessage pushed;
            try
            {
                pushed = new TaskMessage { Pushed = await pending };
            }
            catch (StagingException e)
            {
                pushed = new TaskMessage { PushError = e.Message };
            }
            catch (global::Docker.DotNet.DockerApiException e)
            {
                pushed = new TaskMessage { PushError = Paas.Core.Images.EngineError.Reason(e.ResponseBody ?? e.Message) };
            }
            await writer.WriteAsync(pushed, ct);
        }
    }

    public static void MapCellApi(this IEndpointRouteBuilder app, string secret)
    {
        var api = app.MapGroup("/v1");
        api.AddEndpointFilter(async (context, next) =>
        {
            var header = context.HttpContext.Request.Headers.Authorization.ToString();
            var presented = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header[7..] : null;
            return CellSecret.Matches(secret, presented)
                ? await next(context)
                : Results.Json(new { id = "unauthorized", message = "A valid cell secret is required." }, statusCode: StatusCodes.Status401Unauthorized);
        });

        // ?app=NAME lists one app's instances (the controller's pass over one app); without it, all of them.
        api.MapGet("/instances", async (string? app, DockerCell cell, CancellationToken ct) =>
            Results.Json(string.IsNullOrEmpty(app) ? await cell.ListAsync(ct) : await cell.ListAsync(app, ct)));

        api.MapPost("/instances", async (InstanceSpec spec, DockerCell cell, CellAgentSettings settings, HeartbeatService heartbeat, CancellationToken ct) =>
        {
            var running = await cell.CountRunningAsync(ct);
            if (running >= settings.MaxInstances)
                return Results.Json(new { id = "cell_full", message = $"Cell {settings.Name} already runs its maximum of {settings.MaxInstances} instances." }, statusCode: StatusCodes.Status409Conflict);
            var instance = await cell.StartAsync(spec, ct);
            heartbeat.BeatNow();
            return Results.Json(instance, statusCode: StatusCodes.Status201Created);
        });

        // A pull can take a minute: progress lines stream back as NDJSON ({"progress"}), then one {"pulled"} or {"error"}.
        api.MapPost("/images/prepare", async (PrepareImageRequest request, DockerCell cell, HttpContext context, CancellationToken ct) =>
        {
            context.Response.ContentType = "application/x-ndjson";
            async Task WriteAsync(object line)
            {
                await context.Response.WriteAsync(System.Text.Json.JsonSerializer.Serialize(line) + "\n", ct);
                await context.Response.Body.FlushAsync(ct);
            }
            try
            {
                var pulled = await cell.PrepareImageAsync(request.Image, line => WriteAsync(new { progress = line }), ct);
                await WriteAsync(new { pulled });
            }
            catch (ImageUnavailableException e)
            {
                await WriteAsync(new { error = e.Message });
            }
        });

        // Image hygiene after a deploy: the app's images no kept release uses and no container runs go; the answer lists them.
        api.MapPost("/images/prune", async (PruneImagesRequest request, DockerCell cell, CancellationToken ct) =>
            Results.Json(await cell.PruneImagesAsync(request.App, request.Keep, ct)));

        // Staging: the body is a StagingBundle (a tar), the answer NDJSON (TaskStream): the build's lines live, then {"staged"} or {"error"}.
        api.MapPost("/staging", async (TaskRunner tasks, HttpContext context, ILogger<TaskRunner> logger, CancellationToken ct) =>
        {
            // The controller checked the push against its limits (PushedSource.CheckLimits) before sending it.
            if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
                size.MaxRequestBodySize = null;
            // With a registry the answer goes on after {"staged"}: the push's lines, then {"pushed"} or {"push_error"}.
            Task<string>? push = null;
            await AnswerTaskAsync(context, async output =>
            {
                var (image, pushing) = await tasks.StageAsync(context.Request.Body, output, ct);
                push = pushing;
                return new TaskMessage { Staged = image };
            }, logger, ct, () => push);
        });

        // A one-off command of a release (`paas run`, the release phase): its lines live, then {"ran"} or {"error"}.
        api.MapPost("/runs", async (OneOffJob job, TaskRunner tasks, HttpContext context, ILogger<TaskRunner> logger, CancellationToken ct) =>
            await AnswerTaskAsync(context, async output => new TaskMessage { Ran = await tasks.RunAsync(job, output, ct) }, logger, ct));

        // The same from a terminal (WebSocket, TerminalSession): a TTY, keystrokes in, the TTY's bytes out, then {"ran"} or {"error"}.
        api.MapGet("/runs/tty", async (TaskRunner tasks, HttpContext context, CancellationToken ct) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
                return Results.Json(new { id = "websocket_required", message = "An interactive run is a WebSocket." }, statusCode: StatusCodes.Status400BadRequest);
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            await tasks.RunInteractiveAsync(socket, ct);
            return Results.Empty;
        });

        // Add-on servers: start (or start again on its volume), list with readiness and size, run a command in one, remove.
        api.MapPost("/addons", async (AddonSpec spec, AddonContainers addons, CancellationToken ct) =>
            Results.Json(await addons.StartAsync(spec, ct), statusCode: StatusCodes.Status201Created));
        api.MapGet("/addons", async (AddonContainers addons, CancellationToken ct) => Results.Json(await addons.ListAsync(ct)));
        api.MapPost("/addons/{id}/exec", async (string id, AddonExecRequest request, AddonContainers addons, CancellationToken ct) =>
        {
            try
            {
                return Results.Json(await addons.ExecAsync(id, request.Command, request.Stdin, ct));
            }
            catch (global::Docker.DotNet.DockerApiException e)
            {
                return Results.Json(new { id = "addon_unavailable", message = $"The add-on's server is not running on cell {id}: {Paas.Core.Images.EngineError.Reason(e.ResponseBody ?? e.Message)}" }, statusCode: StatusCodes.Status409Conflict);
            }
        });
        // A dump: the command's standard output is the answer's body, streamed; a failure aborts the answer, so the
        // controller sees a cut body rather than a dump that looks whole.
        api.MapPost("/addons/{id}/dump", async (string id, AddonExecRequest request, AddonContainers addons, HttpContext context, ILogger<AddonContainers> logger, CancellationToken ct) =>
        {
            context.Response.ContentType = "application/octet-stream";
            await context.Response.StartAsync(ct);
            var result = await addons.ExecStreamingAsync(id, request.Command, null, context.Response.Body, ct);
            if (result.ExitCode != 0)
            {
                logger.LogWarning("Dump of add-on {Addon} failed with exit code {Code}: {Errors}", id, result.ExitCode, result.Output);
                context.Abort();
            }
        });
        // A restore: the body is the command's standard input; the answer its exit code and standard error.
        api.MapPost("/addons/{id}/restore", async (string id, string command, AddonContainers addons, HttpContext context, CancellationToken ct) =>
        {
            if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
                size.MaxRequestBodySize = null;
            var argv = System.Text.Json.JsonSerializer.Deserialize<string[]>(command) ?? [];
            return Results.Json(await addons.ExecStreamingAsync(id, argv, context.Request.Body, Stream.Null, ct));
        });
        api.MapDelete("/addons/{id}", async (string id, bool? volume, AddonContainers addons, CancellationToken ct) =>
        {
            await addons.RemoveAsync(id, volume ?? false, ct);
            return Results.NoContent();
        });

        // A crashed instance started again in place; 404 when it cannot be (gone, running, or being stopped: a
        // stop the controller asked for is not a crash, and its container must not come back).
        api.MapPost("/instances/{id}/restart", async (string id, long memoryBytes, DockerCell cell, StoppingInstances stopping, HeartbeatService heartbeat, CancellationToken ct) =>
        {
            if (stopping.Contains(id) || await cell.RestartAsync(id, memoryBytes, ct) is not { } instance)
                return Results.Json(new { id = "not_restartable", message = $"Instance {id} has no exited container of {memoryBytes} bytes to start again on this cell." }, statusCode: StatusCodes.Status404NotFound);
            heartbeat.BeatNow();
            return Results.Json(instance);
        });

        api.MapPost("/instances/wait-healthy", async (WaitHealthyRequest request, DockerCell cell, CancellationToken ct) =>
            Results.Json(await cell.WaitHealthyAsync(request.Instance, request.Check, TimeSpan.FromSeconds(request.TimeoutSeconds), ct)));

        api.MapDelete("/instances/{id}", async (string id, double? graceSeconds, DockerCell cell, StoppingInstances stopping, HeartbeatService heartbeat, CancellationToken ct) =>
        {
            stopping.Add(id);
            try
            {
                await cell.StopAsync(id, TimeSpan.FromSeconds(graceSeconds ?? 10), ct);
            }
            finally
            {
                stopping.Remove(id);
            }
            heartbeat.BeatNow();
            return Results.NoContent();
        });
    }
}
