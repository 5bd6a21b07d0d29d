using System.Text;
using System.Threading.Channels;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.Core.Logs;
using StackExchange.Redis;

namespace Paas.Cell.Logs;

/// <summary>
/// Copies one container's stdout and stderr into its app's log, from where the last run stopped to the
/// container's end. Lines and the resume cursor are stored in one transaction, so after a crash of the agent
/// (or of Redis) the next follower replays from the cursor and every line is written exactly once.
/// </summary>
public sealed class ContainerLogFollower(
    IDockerClient docker,
    AppLogWriter writer,
    LogRateLimiter limiter,
    IConnectionMultiplexer redis,
    LogKeys keys,
    string cell,
    ILogger logger)
{
    /// <summary>A process that never prints a newline must not grow a line without bound.</summary>
    private const int MaxLineLength = 16 * 1024;
    private const int MaxBatch = 500;

    /// <summary>Follows until the container stops (the engine ends the stream); throws when the engine or Redis fails.</summary>
    public async Task FollowAsync(string containerId, string app, string process, CancellationToken cancellationToken)
    {
        var cursorsKey = keys.Cursors(cell);
        var cursor = LogCursor.Parse(await redis.GetDatabase().HashGetAsync(cursorsKey, containerId));
        var parameters = new ContainerLogsParameters { ShowStdout = true, ShowStderr = true, Follow = true, Timestamps = true };
        if (!cursor.IsAtStart)
            parameters.Since = cursor.Since;

        // Reading and writing are apart so that, when an app prints fast, lines pile up while one batch is
        // stored and go out together in the next: one round trip per batch, not per line.
        var lines = Channel.CreateBounded<TimestampedLine>(new BoundedChannelOptions(4 * MaxBatch) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = ReadAsync(containerId, parameters, lines.Writer, stop.Token);
        try
        {
            var batch = new List<AppLogLine>();
            while (await lines.Reader.WaitToReadAsync(cancellationToken))
            {
                batch.Clear();
                var advanced = false;
                while (batch.Count < MaxBatch && lines.Reader.TryRead(out var line))
                {
                    if (!cursor.Advance(line.UnixNanos))
                        continue;
                    advanced = true;
                    if (!limiter.TryAdmit(app, out var dropped))
                        continue;
                    if (dropped > 0)
                        batch.Add(new AppLogLine(line.Time, LogSource.Platform, "", LogRateLimiter.Marker(dropped)));
                    batch.Add(new AppLogLine(line.Time, LogSource.App, process, line.Text));
                }
                if (!advanced)
                    continue;
                var position = cursor.ToString();
                await writer.WriteAsync(app, batch, t => _ = t.HashSetAsync(cursorsKey, containerId, position));
            }
        }
        finally
        {
            stop.Cancel();
            try
            {
                await reading;
            }
            catch (Exception e) when (e is OperationCanceledException or DockerApiException or IOException or HttpRequestException)
            {
                logger.LogDebug("Stopped reading the output of {Container}: {Reason}", containerId, e.Message);
            }
        }
    }

    private async Task ReadAsync(string containerId, ContainerLogsParameters parameters, ChannelWriter<TimestampedLine> lines, CancellationToken cancellationToken)
    {
        Exception? failure = null;
        try
        {
            using var stream = await docker.Containers.GetContainerLogsAsync(containerId, false, parameters, cancellationToken);
            var buffer = new byte[16 * 1024];
            var stdout = new LineSplitter();
            var stderr = new LineSplitter();
            while (true)
            {
                var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, cancellationToken);
                if (read.EOF)
                    break;
                var splitter = read.Target == MultiplexedStream.TargetStream.StandardError ? stderr : stdout;
                foreach (var raw in splitter.Add(buffer.AsSpan(0, read.Count)))
                    await lines.WriteAsync(Parse(raw), cancellationToken);
            }
            foreach (var raw in stdout.Rest().Concat(stderr.Rest()))
                await lines.WriteAsync(Parse(raw), cancellationToken);
        }
        catch (Exception e)
        {
            failure = e;
            throw;
        }
        finally
        {
            lines.TryComplete(failure);
        }
    }

    private long _lastNanos;

    /// <summary>A line without a readable timestamp (a long line's continuation) shares the previous line's.</summary>
    private TimestampedLine Parse(string raw)
    {
        if (TimestampedLine.TryParse(raw, out var line))
        {
            _lastNanos = line.UnixNanos;
            return line;
        }
        return new TimestampedLine(_lastNanos, raw);
    }

    /// <summary>Turns one output stream's chunks into lines, whatever the chunk boundaries.</summary>
    private sealed class LineSplitter
    {
        private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
        private readonly StringBuilder _line = new();
        private char[] _chars = new char[1024];

        public List<string> Add(ReadOnlySpan<byte> bytes)
        {
            var lines = new List<string>();
            var needed = Encoding.UTF8.GetMaxCharCount(bytes.Length);
            if (_chars.Length < needed)
                _chars = new char[needed];
            var count = _decoder.GetChars(bytes, _chars, flush: false);
            for (var i = 0; i < count; i++)
            {
                var c = _chars[i];
                if (c == '\n')
                {
                    lines.Add(_line.ToString().TrimEnd('\r'));
                    _line.Clear();
                }
                else if (_line.Length < MaxLineLength)
                {
                    _line.Append(c);
                }
            }
            return lines;
        }

        public IEnumerable<string> Rest()
        {
            if (_line.Length > 0)
                yield return _line.ToString();
            _line.Clear();
        }
    }
}
