using System.Text.Json;
using System.Text.Json.Serialization;
using Paas.Staging.OneOff;

namespace Paas.Staging.Remote;

/// <summary>
/// One line of a cell's answer to a task (staging, a one-off run), as NDJSON flushed line by line: output
/// lines as they are printed, a tick every few seconds so the controller can tell a silent build from a
/// vanished cell, and last one outcome (staged, ran) or one error sentence. Written and read only through
/// <see cref="TaskStream"/>. A staging answer whose image is still being pushed to the registry
/// (<see cref="StagedImage.Pushing"/>) goes on after `staged`: the push's lines, then `pushed` (the digest
/// reference) or `push_error` (one sentence).
/// </summary>
public sealed record TaskMessage
{
    [JsonPropertyName("line")] public string? Line { get; init; }
    [JsonPropertyName("tick")] public bool? Tick { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }
    [JsonPropertyName("staged")] public StagedImage? Staged { get; init; }
    [JsonPropertyName("ran")] public OneOffResult? Ran { get; init; }
    [JsonPropertyName("pushed")] public string? Pushed { get; init; }
    [JsonPropertyName("push_error")] public string? PushError { get; init; }

    public static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
}

/// <summary>
/// A staged release image as the cell that built it names it: the local tag (`paas/app-APP:vN`), and its
/// registry digest reference at the registry address the cell used, when the cell pushed it. <see cref="Pushing"/>:
/// the cell answered before its push to the registry finished (instances on its own engine need no registry);
/// the digest follows in the same answer (<see cref="TaskMessage.Pushed"/>).
/// </summary>
public sealed record StagedImage(
    [property: JsonPropertyName("image")] string Image,
    [property: JsonPropertyName("registry_image")] string? RegistryImage,
    [property: JsonPropertyName("buildpack")] string Buildpack,
    [property: JsonPropertyName("detected_as")] string DetectedAs,
    [property: JsonPropertyName("process_types")] IReadOnlyDictionary<string, string> ProcessTypes,
    [property: JsonPropertyName("config_vars")] IReadOnlyDictionary<string, string> ConfigVars,
    [property: JsonPropertyName("pushing")] bool Pushing = false);

/// <summary>A one-off command for a cell: `paas run`, the release phase, app.json's postdeploy. The environment holds config vars: never logged.</summary>
public sealed record OneOffJob(
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("image")] string Image,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("command")] string Command,
    [property: JsonPropertyName("environment")] IReadOnlyDictionary<string, string> Environment,
    [property: JsonPropertyName("memory_bytes")] long MemoryBytes,
    [property: JsonPropertyName("time_limit_seconds")] double TimeLimitSeconds);

/// <summary>An interactive one-off for a cell: the job, and the user's terminal (TERM and size).</summary>
public sealed record InteractiveJob(
    [property: JsonPropertyName("job")] OneOffJob? Job,
    [property: JsonPropertyName("term")] string Term,
    [property: JsonPropertyName("cols")] int Columns,
    [property: JsonPropertyName("rows")] int Rows);

/// <summary>The NDJSON framing of task answers, both ends.</summary>
public static class TaskStream
{
    public const string ContentType = "application/x-ndjson";

    /// <summary>How often a cell says it is still there while a task prints nothing (a quiet compile, an image push).</summary>
    public static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the controller waits for any line before it takes the cell for gone: a host that vanished
    /// swallows packets without closing the connection, and a build may be silent for minutes.
    /// </summary>
    public static readonly TimeSpan Silence = TimeSpan.FromSeconds(20);

    /// <summary>The cell's side: serialises writes from the task's output and the ticks, flushing each line.</summary>
    public sealed class Writer(Stream body) : IAsyncDisposable
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private readonly CancellationTokenSource _stop = new();
        private Task? _ticks;

        public void StartTicks(CancellationToken cancellationToken)
        {
            var token = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token).Token;
            _ticks = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        await Task.Delay(TickInterval, token);
                        await WriteAsync(new TaskMessage { Tick = true }, token);
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
                {
                    // The task ended, or the controller went away: its request's cancellation stops the task too.
                }
            }, CancellationToken.None);
        }

        public async Task WriteAsync(TaskMessage message, CancellationToken cancellationToken)
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(message, TaskMessage.Json);
            await _gate.WaitAsync(cancellationToken);
            try
            {
                await body.WriteAsync(bytes, cancellationToken);
                await body.WriteAsync("\n"u8.ToArray(), cancellationToken);
                await body.FlushAsync(cancellationToken);
            }
            finally
            {
                _gate.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            if (_ticks is not null)
                await _ticks;
            _stop.Dispose();
        }
    }

    /// <summary>
    /// The controller's side: passes output lines on and returns the outcome line (staged, ran or error).
    /// Throws <see cref="TimeoutException"/> when nothing arrived for <see cref="Silence"/>, and
    /// <see cref="EndOfStreamException"/> when the answer ended without an outcome (the cell went away).
    /// </summary>
    public static async Task<TaskMessage> ReadAsync(Stream body, Func<string, Task> output, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(body);
        return await ReadAsync(reader, output, cancellationToken);
    }

    /// <summary>As <see cref="ReadAsync(Stream, Func{string, Task}, CancellationToken)"/>, on a reader the caller keeps: after a `staged` that is still pushing, it reads on to `pushed` or `push_error`.</summary>
    public static async Task<TaskMessage> ReadAsync(StreamReader reader, Func<string, Task> output, CancellationToken cancellationToken)
    {
        while (true)
        {
            string? text;
            using (var silence = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                silence.CancelAfter(Silence);
                try
                {
                    text = await reader.ReadLineAsync(silence.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"nothing came from it for {Silence.TotalSeconds:0} s");
                }
            }
            if (text is null)
                throw new EndOfStreamException("its answer ended before the task did");
            if (text.Length == 0)
                continue;
            var message = JsonSerializer.Deserialize<TaskMessage>(text, TaskMessage.Json)
                ?? throw new InvalidDataException("it sent an empty message");
            if (message.Line is { } line)
                await output(line);
            else if (message.Error is not null || message.Staged is not null || message.Ran is not null || message.Pushed is not null || message.PushError is not null)
                return message;
        }
    }
}
