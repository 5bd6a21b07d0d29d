using System.Globalization;
using System.Text.RegularExpressions;

namespace Paas.Controller.Heroku;

/// <summary>
/// The list window a Heroku client asks for in its Range header, e.g. <c>version ..; max=15, order=desc</c>:
/// the sort field, at most how many and in which order. The CLI reads the newest release as the first of
/// <c>order=desc,max=1</c>, so order and size matter; the start of the range is not used by the CLI.
/// </summary>
public sealed partial record HerokuRange(string? Field, int Max, bool Descending)
{
    public const int DefaultMax = 200;
    public const int LargestMax = 1000;

    [GeneratedRegex(@"max=(\d+)")]
    private static partial Regex MaxPattern();

    [GeneratedRegex(@"order=(asc|desc)")]
    private static partial Regex OrderPattern();

    public static HerokuRange Parse(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
            return new HerokuRange(null, DefaultMax, false);
        var field = header.Split([' ', ';'], 2, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        var max = MaxPattern().Match(header) is { Success: true } m && int.TryParse(m.Groups[1].Value, CultureInfo.InvariantCulture, out var n)
            ? Math.Clamp(n, 1, LargestMax)
            : DefaultMax;
        return new HerokuRange(field, max, OrderPattern().Match(header) is { Success: true } o && o.Groups[1].Value == "desc");
    }
}
