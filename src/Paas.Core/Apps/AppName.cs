using System.Text.RegularExpressions;

namespace Paas.Core.Apps;

/// <summary>An app name: a DNS label, because it becomes the app's hostname.</summary>
public static partial class AppName
{
    public const int MaxLength = 30;

    // \z, not $: $ also matches before a trailing newline, which let "hello\n" through.
    [GeneratedRegex(@"^[a-z][a-z0-9-]{0,29}\z")]
    private static partial Regex Pattern();

    /// <summary>Returns null when the name is valid, otherwise one sentence saying why not.</summary>
    public static string? Validate(string? name)
    {
        if (string.IsNullOrEmpty(name))
            return "App name is required.";
        if (name.Length > MaxLength)
            return $"App name '{name}' is too long: at most {MaxLength} characters.";
        if (!char.IsAsciiLetterLower(name[0]))
            return $"App name '{name}' must start with a lowercase letter.";
        if (!Pattern().IsMatch(name))
            return $"App name '{name}' may contain only lowercase letters, digits and hyphens.";
        // A trailing hyphen is legal in the pattern but not in a DNS label, and the name becomes one.
        if (name.EndsWith('-'))
            return $"App name '{name}' must not end with a hyphen.";
        return null;
    }

    public static bool IsValid(string? name) => Validate(name) is null;
}
