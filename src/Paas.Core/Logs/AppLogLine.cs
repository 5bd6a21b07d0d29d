using System.Globalization;

namespace Paas.Core.Logs;

/// <summary>
/// One line of an app's log. <see cref="Id"/> is its position in the app's stream (empty until stored);
/// readers pass it back to continue after it.
/// </summary>
public sealed record AppLogLine(DateTimeOffset Time, string Source, string Process, string Text)
{
    public string Id { get; init; } = "";

    /// <summary>Heroku's tag: <c>app[web.1]</c> for a process, otherwise the source alone (<c>router</c>, <c>staging</c>).</summary>
    public string Tag => Process.Length > 0 ? $"{Source}[{Process}]" : Source;

    /// <summary>The line as <c>heroku logs</c> prints it: <c>2026-11-27T23:00:00.123456+00:00 app[web.1]: text</c>.</summary>
    public string ToHerokuFormat() =>
        Time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'", CultureInfo.InvariantCulture) + " " + Tag + ": " + Text;
}
