using System.Text.RegularExpressions;

namespace Paas.Controller.Auth;

/// <summary>User names: a login or an email address, lower case, so they read the same in events and lists.</summary>
public static partial class UserName
{
    public static string? Validate(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            return "A user name is required.";
        if (name.Length > 64)
            return $"User names are at most 64 characters; '{Printable(name[..20])}…' has {name.Length}.";
        if (!Pattern().IsMatch(name))
            return $"'{Printable(name)}' is not a valid user name: use lower-case letters, digits and . _ @ + - , starting with a letter or digit.";
        return null;
    }

    // The name is quoted back in a one-line error, so a control character must not break the line.
    private static string Printable(string text) => string.Concat(text.Select(c => char.IsControl(c) ? '?' : c));

    // \z, not $: $ also matches before a trailing newline, which let "alice\n" through as a distinct user.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9._@+-]*\z")]
    private static partial Regex Pattern();
}
