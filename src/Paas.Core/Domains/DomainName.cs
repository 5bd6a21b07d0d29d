using System.Text.RegularExpressions;

namespace Paas.Core.Domains;

/// <summary>
/// A custom domain an app is served on: a DNS name, optionally a wildcard (`*.example.com`, one label
/// deep), never a name under the platform's own domain (`APP.PAAS_DOMAIN` and everything below it belongs
/// to the app of that name), and never overlapping another app's domain (<see cref="Overlaps"/>).
/// </summary>
public static partial class DomainName
{
    public const int MaxLength = 253;
    public const int MaxLabelLength = 63;
    public const string WildcardPrefix = "*.";

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")]
    private static partial Regex Label();

    /// <summary>Hostnames are case-insensitive and may be written fully qualified; the stored form is lowercase without the final dot.</summary>
    public static string Normalize(string? hostname)
    {
        var host = (hostname ?? "").Trim().ToLowerInvariant();
        return host.EndsWith('.') ? host[..^1] : host;
    }

    /// <summary>Returns null when the (normalized) hostname may be added, otherwise one sentence saying why not.</summary>
    public static string? Validate(string? hostname, string platformDomain)
    {
        if (string.IsNullOrEmpty(hostname))
            return "A hostname is required, e.g. www.example.com.";
        if (hostname.Length > MaxLength)
            return $"'{Shorten(hostname)}' is too long for a hostname: at most {MaxLength} characters.";
        var wildcard = hostname.StartsWith(WildcardPrefix, StringComparison.Ordinal);
        var labels = (wildcard ? hostname[WildcardPrefix.Length..] : hostname).Split('.');
        if (labels.Any(l => l.Length == 0))
            return $"'{hostname}' has an empty label: hostnames are labels separated by single dots.";
        if (labels.Any(l => l.Contains('*')))
            return $"'{hostname}' may contain '*' only as its whole first label, as in *.example.com.";
        if (labels.FirstOrDefault(l => l.Length > MaxLabelLength) is { } longLabel)
            return $"'{hostname}' has a label longer than {MaxLabelLength} characters ('{Shorten(longLabel)}').";
        if (labels.FirstOrDefault(l => !Label().IsMatch(l)) is { } bad)
            return $"'{hostname}' is not a valid hostname: label '{bad}' may contain only letters, digits and inner hyphens.";
        var domain = Normalize(platformDomain);
        if (wildcard && hostname == WildcardPrefix + domain)
            return $"'{hostname}' would take over every app's own host under {domain}.";
        if (!wildcard && labels.Length >= 2 && string.Join('.', labels[1..]) == domain)
            return $"'{hostname}' is a platform app host under {domain}; every app is served on {domain} by its name already.";
        // Deeper names (x.APP.domain, *.APP.domain) belong to APP as much as its own host does.
        var bare = wildcard ? hostname[WildcardPrefix.Length..] : hostname;
        if (bare == domain || bare.EndsWith("." + domain, StringComparison.Ordinal))
            return $"'{hostname}' is under the platform's own domain {domain}, where each app's names are its own; use a domain of yours.";
        if (labels.Length < 2)
            return $"'{hostname}' is not a full domain name: give at least two labels, e.g. www.example.com.";
        if (labels[^1].All(char.IsAsciiDigit))
            return $"'{hostname}' looks like an IP address; a custom domain must be a DNS name.";
        return null;
    }

    /// <summary>
    /// True when serving <paramref name="a"/> and <paramref name="b"/> from different apps would let one take
    /// traffic meant for the other: the same name, or one under the other (wildcards compared by the domain
    /// they cover): `*.example.com`, `example.com` and `shop.example.com` all overlap `www.example.com`.
    /// </summary>
    public static bool Overlaps(string a, string b)
    {
        var x = a.StartsWith(WildcardPrefix, StringComparison.Ordinal) ? a[WildcardPrefix.Length..] : a;
        var y = b.StartsWith(WildcardPrefix, StringComparison.Ordinal) ? b[WildcardPrefix.Length..] : b;
        return x == y || x.EndsWith("." + y, StringComparison.Ordinal) || y.EndsWith("." + x, StringComparison.Ordinal);
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..37] + "...";
}
