using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace Paas.Core.Logs;

/// <summary>
/// Reads an app's log stream: the last N lines, and then (for tailing) each new line as it arrives.
/// Kept apart from any HTTP shape so the Paas API and a Heroku-style log session can both use it.
/// </summary>
public sealed class AppLogReader(IConnectionMultiplexer redis, LogKeys keys, TimeProvider time)
{
    /// <summary>How often a follower looks for new lines. The client library has no blocking XREAD (it shares one connection), so it polls.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    private const int Page = 500;

    /// <summary>The position before the first entry any stream can have.</summary>
    public const string Beginning = "0-0";

    /// <summary>
    /// The last <paramref name="count"/> lines that match, oldest first, and the id of the newest entry
    /// in the stream (matching or not), to follow from.
    /// </summary>
    public async Task<(IReadOnlyList<AppLogLine> Lines, string LastId)> ReadLastAsync(string app, int count, AppLogFilter filter)
    {
        var db = redis.GetDatabase();
        var key = keys.Stream(app);
        var newestFirst = new List<AppLogLine>();
        string? lastId = null;
        RedisValue before = "+";
        while (newestFirst.Count < count)
        {
            // Unfiltered, one page of exactly what is needed; filtered, whole pages until enough match.
            var want = filter == AppLogFilter.All ? count - newestFirst.Count : Page;
            var entries = await db.StreamRangeAsync(key, "-", before, want, Order.Descending);
            if (entries.Length == 0)
                break;
            lastId ??= entries[0].Id.ToString();
            foreach (var entry in entries)
            {
                var line = AppLogWriter.Parse(entry);
                if (filter.Matches(line) && newestFirst.Count < count)
                    newestFirst.Add(line);
            }
            if (entries.Length < want)
                break;
            before = "(" + entries[^1].Id;
        }
        newestFirst.Reverse();
        return (newestFirst, lastId ?? Beginning);
    }

    /// <summary>Matching lines stored after <paramref name="afterId"/>, oldest first, as they arrive, until cancelled.</summary>
    public async IAsyncEnumerable<AppLogLine> FollowAsync(string app, string afterId, AppLogFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var key = keys.Stream(app);
        while (!cancellationToken.IsCancellationRequested)
        {
            StreamEntry[] entries;
            try
            {
                entries = await db.StreamRangeAsync(key, "(" + afterId, "+", Page);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                // Redis restarting: keep the follower, try again on the next tick.
                entries = [];
            }
            foreach (var entry in entries)
            {
                afterId = entry.Id.ToString();
                var line = AppLogWriter.Parse(entry);
                if (filter.Matches(line))
                    yield return line;
            }
            if (entries.Length < Page)
            {
                try
                {
                    await Task.Delay(PollInterval, time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }
            }
        }
    }
}
