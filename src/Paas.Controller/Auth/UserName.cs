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
            return $"User names are at most 64 characters; '{name[..20]}…' has {name.Length}.";
        if (!Pattern().IsMatch(name))
            return $"'{name}' is not a valid user name: use lower-case letters, digits and . _ @ + - , starting with a letter or digit.";
        return null;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._@+-]*$")]
    private static partial Regex Pattern();
}
