using StackExchange.Redis;

namespace Paas.Core.Logs;

/// <summary>
/// Appends lines to an app's log stream (<see cref="LogKeys.Stream"/>), trimming it to about
/// <c>maxLines</c> entries so history is bounded per app. Shared by everything that writes logs:
/// the controller (staging output, platform events), cell agents (instance output) and the router.
/// </summary>
public sealed class AppLogWriter(IConnectionMultiplexer redis, LogKeys keys, int maxLines, TimeProvider time)
{
    public const string TimeField = "time";
    public const string SourceField = "source";
    public const string ProcessField = "process";
    public const string LineField = "line";

    public int MaxLines => maxLines;

    /// <summary>One line, stamped now.</summary>
    public Task WriteAsync(string app, string source, string process, string line) =>
        WriteAsync(app, [new AppLogLine(time.GetUtcNow(), source, process, line)]);

    /// <summary>
    /// Several lines in one round trip, in order. <paramref name="alongside"/> adds commands to the same
    /// transaction, so they happen if and only if the lines are stored (a collector's resume cursor).
    /// </summary>
    /// <exception cref="RedisException">Redis did not store the lines; nothing of the batch was stored.</exception>
    public async Task WriteAsync(string app, IReadOnlyList<AppLogLine> lines, Action<ITransaction>? alongside = null)
    {
        if (lines.Count == 0 && alongside is null)
            return;
        var transaction = redis.GetDatabase().CreateTransaction();
        var key = keys.Stream(app);
        var adds = new List<Task>(lines.Count);
        foreach (var line in lines)
            adds.Add(transaction.StreamAddAsync(key, Fields(line), maxLength: maxLines, useApproximateMaxLength: true));
        alongside?.Invoke(transaction);
        if (!await transaction.ExecuteAsync())
            throw new RedisException($"The log lines of {app} were not stored.");
        await Task.WhenAll(adds);
    }

    /// <summary>
    /// Many lines in one command, in order: a script adds each to the stream inside Redis. For writers that
    /// store lines at request rates (the router): one command per batch instead of one per line costs the
    /// client a fraction of the CPU. Not a transaction: a failure part-way keeps the lines already added.
    /// </summary>
    /// <exception cref="RedisException">Redis did not run the script.</exception>
    public Task AppendManyAsync(string app, IReadOnlyList<AppLogLine> lines)
    {
        if (lines.Count == 0)
            return Task.CompletedTask;
        var values = new RedisValue[1 + lines.Count * 4];
        values[0] = maxLines;
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            values[1 + i * 4] = line.Time.ToUnixTimeMilliseconds();
            values[2 + i * 4] = line.Source;
            values[3 + i * 4] = line.Process;
            values[4 + i * 4] = line.Text;
        }
        return redis.GetDatabase().ScriptEvaluateAsync(AppendManyScript, [keys.Stream(app)], values);
    }

    // ARGV: max length, then time, source, process, line for each entry; the field names are Fields' own.
    private const string AppendManyScript = $$"""
        for i = 2, #ARGV, 4 do
          redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
            '{{TimeField}}', ARGV[i], '{{SourceField}}', ARGV[i + 1], '{{ProcessField}}', ARGV[i + 2], '{{LineField}}', ARGV[i + 3])
        end
        return (#ARGV - 1) / 4
        """;

    /// <summary>
    /// One line, without waiting for Redis: for callers that must not slow down or fail because logging
    /// does (a deploy printing build output). Lines posted from one thread keep their order.
    /// </summary>
    public void Post(string app, string source, string process, string line)
    {
        try
        {
            redis.GetDatabase().StreamAdd(keys.Stream(app), Fields(new AppLogLine(time.GetUtcNow(), source, process, line)),
                maxLength: maxLines, useApproximateMaxLength: true, flags: CommandFlags.FireAndForget);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Logs are best effort here; the caller's own output (the pusher's terminal) still has the line.
        }
    }

    /// <summary>
    /// Moves the app's log to its new name (`apps:rename`), replacing whatever the new name had (an app that did not
    /// exist has none of its own); nothing when the old name has no log.
    /// </summary>
    public async Task MoveAsync(string app, string newName)
    {
        var db = redis.GetDatabase();
        if (await db.KeyExistsAsync(keys.Stream(app)))
            await db.KeyRenameAsync(keys.Stream(app), keys.Stream(newName));
    }

    /// <summary>Removes the app's whole log (when the app is destroyed).</summary>
    public Task DeleteAsync(string app) => redis.GetDatabase().KeyDeleteAsync(keys.Stream(app));

    public static NameValueEntry[] Fields(AppLogLine line) =>
    [
        new(TimeField, line.Time.ToUnixTimeMilliseconds()),
        new(SourceField, line.Source),
        new(ProcessField, line.Process),
        new(LineField, line.Text),
    ];

    /// <summary>A stream entry back as a line; fields it lacks read as empty (a line from an older writer).</summary>
    public static AppLogLine Parse(StreamEntry entry)
    {
        var time = entry[TimeField];
        var at = time.TryParse(out long ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : IdTime(entry.Id.ToString());
        return new AppLogLine(at, entry[SourceField].ToString(), entry[ProcessField].ToString(), entry[LineField].ToString())
        {
            Id = entry.Id.ToString(),
        };
    }

    /// <summary>A stream id starts with the milliseconds at which Redis stored the entry.</summary>
    private static DateTimeOffset IdTime(string id) =>
        long.TryParse(id.AsSpan(0, Math.Max(0, id.IndexOf('-'))), out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : DateTimeOffset.UnixEpoch;
}
