using System.Globalization;

namespace Paas.Core.Logs;

/// <summary>
/// A line of container output as the engine returns it with timestamps on:
/// <c>2026-11-27T23:00:00.123456789Z text</c> (RFC 3339, up to nanoseconds, then one space).
/// </summary>
public readonly record struct TimestampedLine(long UnixNanos, string Text)
{
    public DateTimeOffset Time => DateTimeOffset.UnixEpoch.AddTicks(UnixNanos / 100);

    public static bool TryParse(string raw, out TimestampedLine line)
    {
        line = default;
        var space = raw.IndexOf(' ');
        var stamp = space < 0 ? raw : raw[..space];
        // Whole seconds first, then up to nine fraction digits by hand: DateTime parsing stops at ticks (100 ns).
        var dot = stamp.IndexOf('.');
        var end = stamp.IndexOfAny(['Z', '+'], Math.Max(0, dot));
        if (stamp.Length < 20 || end < 0)
            return false;
        var seconds = dot > 0 ? stamp[..dot] : stamp[..end];
        if (!DateTimeOffset.TryParseExact(seconds + stamp[end..].Replace("Z", "+00:00"), "yyyy-MM-dd'T'HH:mm:sszzz",
                CultureInfo.InvariantCulture, DateTimeStyles.None, out var whole))
            return false;
        long fraction = 0;
        if (dot > 0)
        {
            var digits = stamp[(dot + 1)..end];
            if (digits.Length is 0 or > 9 || !long.TryParse(digits.PadRight(9, '0'), NumberStyles.None, CultureInfo.InvariantCulture, out fraction))
                return false;
        }
        line = new TimestampedLine(whole.ToUnixTimeSeconds() * 1_000_000_000 + fraction, space < 0 ? "" : raw[(space + 1)..]);
        return true;
    }
}
