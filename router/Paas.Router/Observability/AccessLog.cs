using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;

namespace Paas.Router.Observability;

/// <summary>
/// One JSON line per request, to stdout or a file. Requests only enqueue an <see cref="AccessLogEntry"/>
/// into a bounded queue (dropping, and counting the drop, rather than slowing traffic when the disk
/// stalls); one background writer formats and writes lines in batches. Every entry is also handed to the
/// <see cref="AppLogFeed"/>, which has its own switch, so the app's log gets router lines even when this
/// operator's log is off.
/// </summary>
public sealed class AccessLog : BackgroundService
{
    private const int Capacity = 65536;
    private static readonly TimeSpan BatchDelay = TimeSpan.FromMilliseconds(20);

    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    private readonly Channel<AccessLogEntry> _queue = Channel.CreateBounded<AccessLogEntry>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    private readonly RouterSettings _settings;
    private readonly RouterMetrics _metrics;
    private readonly ILogger<AccessLog> _logger;
    private readonly bool _enabled;

    public AccessLog(RouterSettings settings, RouterMetrics metrics, AppLogFeed appLogs, ILogger<AccessLog> logger)
    {
        _settings = settings;
        _metrics = metrics;
        AppLogs = appLogs;
        _logger = logger;
        _enabled = !string.Equals(settings.AccessLog, "off", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Where each entry goes besides this log: the app's own log in Redis.</summary>
    public AppLogFeed AppLogs { get; }

    /// <summary>Whether an entry goes anywhere (this log or the apps' logs); when not, callers may skip making one.</summary>
    public bool IsRecording => _enabled || AppLogs.IsEnabled;

    public void Write(in AccessLogEntry entry)
    {
        AppLogs.Write(entry);
        if (_enabled && !_queue.Writer.TryWrite(entry))
        {
            _metrics.AccessLogDropped.Increment();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_enabled)
        {
            return;
        }

        await using var output = Open();
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        await using var json = new Utf8JsonWriter(buffer, WriterOptions);
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                // Drain whatever is queued into one buffer and one write: a line per syscall would cost more than the request.
                while (buffer.WrittenCount < 60 * 1024 && reader.TryRead(out var entry))
                {
                    json.Reset(buffer);
                    Format(json, entry);
                    json.Flush();
                    buffer.Write("\n"u8);
                }

                await output.WriteAsync(buffer.WrittenMemory, stoppingToken);
                await output.FlushAsync(stoppingToken);
                var full = buffer.WrittenCount >= 60 * 1024;
                buffer.ResetWrittenCount();
                if (!full)
                {
                    // Let lines gather: waking the writer for every request costs a thread-pool hop per
                    // request, which at proxy rates halved throughput. Lines reach the log within 20 ms.
                    await Task.Delay(BatchDelay, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (IOException ex)
        {
            _logger.LogError(ex, "Access log stopped: cannot write to {Target}", _settings.AccessLog);
        }
    }

    private Stream Open() =>
        string.Equals(_settings.AccessLog, "stdout", StringComparison.OrdinalIgnoreCase)
            ? Console.OpenStandardOutput()
            : new FileStream(_settings.AccessLog, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 1, FileOptions.Asynchronous);

    internal static void Format(Utf8JsonWriter json, in AccessLogEntry e)
    {
        json.WriteStartObject();
        json.WriteString("time"u8, e.Time);
        json.WriteString("type"u8, "access"u8);
        json.WriteString("host"u8, e.Host);
        json.WriteString("method"u8, e.Method);
        json.WriteString("path"u8, e.Path);
        json.WriteNumber("status"u8, e.Status);
        json.WriteNumber("bytes"u8, e.Bytes);
        json.WriteNumber("duration_ms"u8, Math.Round(e.DurationMs, 3));
        if (e.UpstreamMs >= 0)
        {
            json.WriteNumber("upstream_ms"u8, Math.Round(e.UpstreamMs, 3));
        }
        else
        {
            json.WriteNull("upstream_ms"u8);
        }

        json.WriteString("app"u8, e.App);
        json.WriteString("instance"u8, e.Instance);
        json.WriteNumber("attempts"u8, e.Attempts);
        json.WriteString("request_id"u8, e.RequestId);
        json.WriteString("error"u8, e.Error);
        json.WriteEndObject();
    }
}
