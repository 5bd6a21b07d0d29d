using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Paas.Core.Logs;
using StackExchange.Redis;

namespace Paas.Router.Observability;

/// <summary>
/// Puts one <c>router</c> line per request into the app's own log (the stream `paas logs` reads), apart from
/// the operator's access log so that turning one off leaves the other. Requests only enqueue; when the queue
/// is full (Redis slow or away) lines are dropped and counted, never waited for. One background writer
/// stores them in batches.
/// </summary>
public sealed class AppLogFeed : BackgroundService, Sources.IRedisConnectionUser
{
    private const int Capacity = 16384;
    private const int MaxBatch = 512;
    private static readonly TimeSpan BatchDelay = TimeSpan.FromMilliseconds(20);

    private readonly Channel<AccessLogEntry> _queue = Channel.CreateBounded<AccessLogEntry>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    private readonly RouterSettings _settings;
    private readonly RouterMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<AppLogFeed> _logger;
    private volatile AppLogWriter? _writer;

    public AppLogFeed(RouterSettings settings, RouterMetrics metrics, TimeProvider time, ILogger<AppLogFeed> logger)
    {
        _settings = settings;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    /// <summary>Called by the route source with its Redis connection; lines while there is none are dropped.</summary>
    public void Attach(IConnectionMultiplexer? redis) =>
        _writer = redis is null ? null : new AppLogWriter(redis, new LogKeys(_settings.RedisPrefix), _settings.LogMaxLines, _time);

    public bool IsEnabled => _settings.AppLogs;

    public void Write(in AccessLogEntry entry)
    {
        if (_settings.AppLogs && entry.App is not null && !_queue.Writer.TryWrite(entry))
        {
            _metrics.AppLogDropped.Increment();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _queue.Reader;
        var batch = new Dictionary<string, List<AppLogLine>>();
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                var count = 0;
                while (count < MaxBatch && reader.TryRead(out var entry))
                {
                    if (!batch.TryGetValue(entry.App!, out var lines))
                    {
                        batch[entry.App!] = lines = [];
                    }

                    lines.Add(new AppLogLine(new DateTimeOffset(entry.Time, TimeSpan.Zero), LogSource.Router, "", Format(entry)));
                    count++;
                }

                await StoreAsync(batch, count);
                batch.Clear();
                if (count < MaxBatch)
                {
                    // Let lines gather into one round trip; they still reach the log well within a second.
                    await Task.Delay(BatchDelay, _time, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task StoreAsync(Dictionary<string, List<AppLogLine>> batch, int count)
    {
        if (_writer is not { } writer)
        {
            _metrics.AppLogDropped.Add(count);
            return;
        }

        try
        {
            await Task.WhenAll(batch.Select(app => writer.AppendManyAsync(app.Key, app.Value)));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _metrics.AppLogDropped.Add(count);
            _logger.LogDebug("Dropped {Count} app log lines: {Reason}", count, ex.Message);
        }
    }

    /// <summary>Heroku's router line shape, key=value, so existing habits (and grep patterns) carry over.</summary>
    internal static string Format(in AccessLogEntry e)
    {
        var line = new StringBuilder(160);
        line.Append(e.Error is null ? "at=info" : "at=error code=").Append(e.Error ?? "");
        line.Append(" method=").Append(e.Method);
        line.Append(" path=\"").Append(e.Path).Append('"');
        line.Append(" host=").Append(e.Host);
        line.Append(" request_id=").Append(e.RequestId);
        line.Append(" status=").Append(e.Status.ToString(CultureInfo.InvariantCulture));
        line.Append(" bytes=").Append(e.Bytes.ToString(CultureInfo.InvariantCulture));
        line.Append(" duration=").Append(e.DurationMs.ToString("0.#", CultureInfo.InvariantCulture)).Append("ms");
        if (e.Instance is not null)
        {
            line.Append(" instance=").Append(e.Instance);
        }

        return line.ToString();
    }
}
