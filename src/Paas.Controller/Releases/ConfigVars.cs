using System.Text.RegularExpressions;

namespace Paas.Controller.Releases;

/// <summary>What a config var may be called and hold; PORT and DYNO belong to the platform.</summary>
public static partial class ConfigVars
{
    public const int MaxValueBytes = 32 * 1024;
    public const int MaxTotalBytes = 256 * 1024;
    private static readonly HashSet<string> Reserved = ["PORT", "DYNO"];

    /// <summary>Null when the changes (null value = unset) may be applied to <paramref name="current"/>; otherwise why not, in one sentence.</summary>
    public static string? Validate(IReadOnlyDictionary<string, string?> changes, IReadOnlyDictionary<string, string> current)
    {
        if (changes.Count == 0)
            return "No config vars given: use NAME=value to set, or NAME to unset.";
        foreach (var (name, value) in changes)
        {
            if (!NamePattern().IsMatch(name))
                return $"'{Shorten(name)}' is not a valid config var name: use letters, digits and underscores, not starting with a digit.";
            if (Reserved.Contains(name))
                return $"{name} is set by the platform for every instance and cannot be changed.";
            if (value is not null && System.Text.Encoding.UTF8.GetByteCount(value) > MaxValueBytes)
                return $"The value of {name} is over {MaxValueBytes / 1024} KB.";
            if (value is not null && value.Contains('\0'))
                return $"The value of {name} contains a NUL character, which no process environment can hold.";
        }
        var total = Apply(current, changes).Sum(p => p.Key.Length + System.Text.Encoding.UTF8.GetByteCount(p.Value));
        return total > MaxTotalBytes ? $"The app's config vars would total {total / 1024} KB, over the limit of {MaxTotalBytes / 1024} KB." : null;
    }

    public static Dictionary<string, string> Apply(IReadOnlyDictionary<string, string> current, IReadOnlyDictionary<string, string?> changes)
    {
        var result = new Dictionary<string, string>(current, StringComparer.Ordinal);
        foreach (var (name, value) in changes)
        {
            if (value is null)
                result.Remove(name);
            else
                result[name] = value;
        }
        return result;
    }

    /// <summary>"Set FOO, BAR config vars" / "Remove FOO config var", as Heroku describes such releases.</summary>
    public static string Describe(IReadOnlyDictionary<string, string?> changes)
    {
        var set = changes.Where(c => c.Value is not null).Select(c => c.Key).ToList();
        var removed = changes.Where(c => c.Value is null).Select(c => c.Key).ToList();
        var parts = new List<string>();
        if (set.Count > 0)
            parts.Add($"Set {string.Join(", ", set)} config var{(set.Count == 1 ? "" : "s")}");
        if (removed.Count > 0)
            parts.Add($"{(parts.Count > 0 ? "remove" : "Remove")} {string.Join(", ", removed)} config var{(removed.Count == 1 ? "" : "s")}");
        return string.Join("; ", parts);
    }

    // The name is quoted back in a one-line error, so control characters are shown as '?'.
    private static string Shorten(string text)
    {
        var printable = string.Concat(text.Select(c => char.IsControl(c) ? '?' : c));
        return printable.Length <= 40 ? printable : printable[..40] + "…";
    }

    // \z, not $: $ also matches before a trailing newline, which let "FOO\n" through into process environments.
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]{0,254}\z")]
    private static partial Regex NamePattern();
}
