using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Features;
using Paas.Core.Api;

namespace Paas.Controller.Operations;

/// <summary>
/// Serves a long operation as a stream of <see cref="ProgressEvent"/> lines (NDJSON) when the client asks for it
/// with <c>Accept: application/x-ndjson</c>. The operation runs apart from the request: a client that stops
/// listening (Ctrl-C) stops only its own waiting; the operation goes on until it ends or the controller stops.
/// </summary>
public static class ProgressStream
{
    public static bool IsWanted(HttpContext context) =>
        context.Request.Headers.Accept.Any(a => a is not null && a.Contains(ProgressEvent.MediaType, StringComparison.OrdinalIgnoreCase));

    /// <summary>Runs <paramref name="operation"/> and streams its events of <paramref name="app"/>, ending with the outcome it returns.</summary>
    public static async Task<IResult> RunAsync(HttpContext context, string app, Func<CancellationToken, Task<OperationOutcome>> operation)
    {
        var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ProgressStream));
        var time = context.RequestServices.GetRequiredService<TimeProvider>();
        var events = Channel.CreateUnbounded<ProgressEvent>(new UnboundedChannelOptions { SingleReader = true });
        var started = time.GetTimestamp();
        _ = Task.Run(async () =>
        {
            OperationProgress.Follow(app, events.Writer);
            OperationOutcome outcome;
            try
            {
                outcome = await operation(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                outcome = new OperationOutcome(false, "The controller stopped before the operation ended; it resumes or is undone at its next start.", null, 0, 0,
                    time.GetElapsedTime(started).TotalSeconds) { Error = "controller_stopping" };
            }
            catch (Exception e)
            {
                logger.LogError(e, "An operation on {App} failed unexpectedly", app);
                outcome = new OperationOutcome(false, $"The operation failed unexpectedly ({e.GetType().Name}: {e.Message.Split('\n')[0].TrimEnd('.')}).", null, 0, 0,
                    time.GetElapsedTime(started).TotalSeconds) { Error = "internal_error" };
            }
            events.Writer.TryWrite(new ProgressEvent(outcome.Ok ? ProgressEvent.Done : ProgressEvent.Failed, Release: outcome.Release, Message: outcome.Summary) { Outcome = outcome });
            events.Writer.TryComplete();
        }, CancellationToken.None);

        var response = context.Response;
        response.ContentType = ProgressEvent.MediaType;
        response.Headers.CacheControl = "no-store";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            await response.StartAsync(context.RequestAborted);
            await foreach (var progress in events.Reader.ReadAllAsync(context.RequestAborted))
            {
                await response.WriteAsync(JsonSerializer.Serialize(progress) + "\n", context.RequestAborted);
                await response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client stopped listening; the operation goes on.
        }
        return Results.Empty;
    }

    /// <summary>"2 of 2 healthy in 3.1 s", the common tail of every summary.</summary>
    public static string Health(int healthy, int wanted, double seconds) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{healthy} of {wanted} healthy in {seconds:0.0} s");
}
