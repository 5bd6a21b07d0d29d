using System.Globalization;
using System.Net;

namespace Paas.Core.Configuration;

/// <summary>
/// The one way a platform process reads its settings from the environment: controller, cell agent and router
/// alike. One rule: a variable that is unset or only whitespace takes the default (the one exception,
/// <see cref="Exact"/>, is for values where empty means something); anything else must parse, or start-up stops
/// with one sentence of one shape, "NAME must be WHAT, not 'VALUE'." Every variable read here is listed in
/// <see cref="SettingsCatalogue"/>, from which README's table is made.
/// </summary>
public sealed class SettingsReader(Func<string, string?> read)
{
    public static SettingsReader FromEnvironment() => new(Environment.GetEnvironmentVariable);

    /// <summary>The value as set, empty included (for settings such as a key prefix, where empty is a choice).</summary>
    public string? Exact(string name) => read(name);

    /// <summary>The trimmed value, or null when unset or blank.</summary>
    public string? Optional(string name) => read(name) is { } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    public string Text(string name, string fallback) => Optional(name) ?? fallback;

    /// <summary>A whole number of at least one.</summary>
    public int Count(string name, int fallback)
    {
        if (Optional(name) is not { } raw)
            return fallback;
        return int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count >= 1
            ? count
            : throw Invalid(name, "a positive whole number", raw);
    }

    /// <summary>A TCP port; with <paramref name="zeroTurnsOff"/>, 0 is allowed and means "not opened".</summary>
    public int Port(string name, int fallback, bool zeroTurnsOff = false)
    {
        if (Optional(name) is not { } raw)
            return fallback;
        if (int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && (port is >= 1 and <= 65535 || (zeroTurnsOff && port == 0)))
            return port;
        throw Invalid(name, zeroTurnsOff ? "a TCP port (1-65535), or 0 for off" : "a TCP port (1-65535)", raw);
    }

    /// <summary>A number of bytes within bounds; null when unset and the fallback is null.</summary>
    public long? Bytes(string name, long? fallback, long min = 0, long max = long.MaxValue)
    {
        if (Optional(name) is not { } raw)
            return fallback;
        return long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes >= min && bytes <= max
            ? bytes
            : throw Invalid(name, $"a number of bytes between {min} and {max}", raw);
    }

    /// <summary>A size given in MiB (the variable's name says _MB), returned in bytes.</summary>
    public long Megabytes(string name, long fallbackBytes) =>
        Optional(name) is null ? fallbackBytes : Count(name, 1) * 1024L * 1024;

    /// <summary>A positive number of seconds (fractions allowed), at most a day.</summary>
    public TimeSpan Seconds(string name, TimeSpan fallback) => Duration(name, fallback, TimeSpan.FromSeconds(1), "seconds");

    /// <summary>A positive number of milliseconds, at most a day.</summary>
    public TimeSpan Milliseconds(string name, TimeSpan fallback) => Duration(name, fallback, TimeSpan.FromMilliseconds(1), "milliseconds");

    /// <summary>On or off: true/false, 1/0, yes/no, on/off.</summary>
    public bool Switch(string name, bool fallback) => Optional(name)?.ToLowerInvariant() switch
    {
        null => fallback,
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        var raw => throw Invalid(name, "on or off (true/false, 1/0, yes/no)", raw),
    };

    public IPAddress Address(string name, string fallback)
    {
        var raw = Optional(name) ?? fallback;
        return IPAddress.TryParse(raw, out var address) ? address : throw Invalid(name, "an IP address such as 0.0.0.0 or 127.0.0.1", raw);
    }

    /// <summary>The start-up error every setting gives: one sentence naming the variable, what it must be, and what it was.</summary>
    public static SettingException Invalid(string name, string expected, string raw) => new($"{name} must be {expected}, not '{raw}'.");

    private TimeSpan Duration(string name, TimeSpan fallback, TimeSpan unit, string unitName)
    {
        if (Optional(name) is not { } raw)
            return fallback;
        if (double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var count) && double.IsFinite(count) && count > 0
            && count * unit.TotalSeconds <= TimeSpan.FromDays(1).TotalSeconds)
            return unit * count;
        throw Invalid(name, $"a positive number of {unitName} (at most a day)", raw);
    }
}

/// <summary>A setting that cannot be used as given; its message is the one sentence to show.</summary>
public sealed class SettingException(string message) : FormatException(message);
