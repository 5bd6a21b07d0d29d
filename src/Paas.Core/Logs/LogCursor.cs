using System.Globalization;

namespace Paas.Core.Logs;

/// <summary>
/// How far a collector got in one container's output: the timestamp (ns since the epoch) of the last line it
/// handled, and how many lines with exactly that timestamp it handled. The engine can only replay output
/// from a timestamp on (inclusive), so on resume the collector replays from the cursor's timestamp and
/// this skips what was already written, even when several lines share that timestamp.
/// </summary>
public sealed class LogCursor
{
    private long _seenAtLast;

    public LogCursor(long lastNanos = 0, long handledAtLast = 0)
    {
        LastNanos = lastNanos;
        HandledAtLast = handledAtLast;
    }

    public long LastNanos { get; private set; }

    public long HandledAtLast { get; private set; }

    /// <summary>True before any line was handled: read the container's output from its start.</summary>
    public bool IsAtStart => LastNanos == 0;

    /// <summary>Moves past a line with this timestamp; false when it was handled before (a replayed line).</summary>
    public bool Advance(long nanos)
    {
        if (nanos < LastNanos)
            return false;
        if (nanos > LastNanos)
        {
            LastNanos = nanos;
            _seenAtLast = HandledAtLast = 1;
            return true;
        }
        _seenAtLast++;
        if (_seenAtLast <= HandledAtLast)
            return false;
        HandledAtLast = _seenAtLast;
        return true;
    }

    /// <summary>The engine's <c>since</c> parameter (seconds, inclusive): the whole second the cursor is in, so no line is missed to rounding.</summary>
    public string Since => (LastNanos / 1_000_000_000).ToString(CultureInfo.InvariantCulture);

    public override string ToString() => $"{LastNanos}:{HandledAtLast}";

    /// <summary>A stored cursor; anything unreadable (or nothing) means the start.</summary>
    public static LogCursor Parse(string? text)
    {
        var parts = (text ?? "").Split(':');
        return parts.Length == 2
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var nanos)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var handled)
            ? new LogCursor(nanos, handled)
            : new LogCursor();
    }
}
