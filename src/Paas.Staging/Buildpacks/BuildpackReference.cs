using System.Text.RegularExpressions;

namespace Paas.Staging.Buildpacks;

/// <summary>
/// One buildpack as a user names it: a built-in name (`nodejs`), a git URL (https, http or file) with an
/// optional `#ref` (branch, tag or commit), or a tarball URL ending in .tgz or .tar.gz.
/// </summary>
public sealed partial record BuildpackReference(string Text, BuildpackKind Kind, string Location, string? Ref)
{
    public override string ToString() => Text;

    /// <summary>True for a buildpack on the platform's own disk (file://), which only operators may name.</summary>
    public bool IsLocal => Kind == BuildpackKind.Git && Location.StartsWith("file:", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why this caller may not use this buildpack (one sentence), or null when it may.</summary>
    public string? RefusalFor(BuildpackTrust trust) =>
        trust == BuildpackTrust.Tenant && IsLocal
            ? $"'{Shorten(Text)}' is a path on the platform's own disk, which only operators may use: publish the buildpack as an https git repository or a .tgz URL."
            : null;

    /// <summary>Parses a reference; null and a one-sentence reason when it is not one.</summary>
    public static BuildpackReference? Parse(string? text, out string? problem)
    {
        problem = null;
        var value = text?.Trim() ?? "";
        if (value.Length == 0)
        {
            problem = "A buildpack must be a built-in name, a git URL or a .tgz URL, not an empty string.";
            return null;
        }
        if (value.Length > 2000 || value.Any(char.IsControl) || value.Contains(' ') || value.Contains(','))
        {
            problem = $"'{Shorten(value)}' is not a buildpack: names and URLs have no spaces, commas or control characters.";
            return null;
        }
        if (BuiltInName().IsMatch(value))
            return new BuildpackReference(value, BuildpackKind.BuiltIn, value.ToLowerInvariant(), null);
        var hash = value.IndexOf('#');
        var location = hash < 0 ? value : value[..hash];
        var reference = hash < 0 ? null : value[(hash + 1)..];
        if (reference is not null && !GitRef().IsMatch(reference))
        {
            problem = $"'{Shorten(value)}' has a #ref that is not a valid git branch, tag or commit.";
            return null;
        }
        // A bare path (/srv/pack, c:/pack) also parses as a file URI; only a URL written with its scheme counts.
        if (!Uri.TryCreate(location, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http" or "file")
            || !location.StartsWith(uri.Scheme + ":", StringComparison.OrdinalIgnoreCase))
        {
            problem = $"'{Shorten(value)}' is not a buildpack: use a built-in name or an https, http or file URL.";
            return null;
        }
        if (uri.Scheme != "file" && uri.Host.Length == 0)
        {
            problem = $"'{Shorten(value)}' has no host.";
            return null;
        }
        if (uri.AbsolutePath.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) || uri.AbsolutePath.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase))
        {
            if (reference is not null)
            {
                problem = $"'{Shorten(value)}' is a tarball URL, which cannot take a #ref.";
                return null;
            }
            if (uri.Scheme == "file")
            {
                // Tarballs are downloaded with HttpClient, which has no file scheme.
                problem = $"'{Shorten(value)}' is a local tarball: serve it over https or http, or use a git repository.";
                return null;
            }
            return new BuildpackReference(value, BuildpackKind.Tarball, location, null);
        }
        return new BuildpackReference(value, BuildpackKind.Git, location, reference);
    }

    // The text is quoted back to the user, so a control character must not break the one-line message.
    private static string Shorten(string value)
    {
        var printable = string.Concat(value.Select(c => char.IsControl(c) ? '?' : c));
        return printable.Length <= 80 ? printable : printable[..77] + "...";
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex BuiltInName();

    [GeneratedRegex(@"^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}$")]
    private static partial Regex GitRef();
}

public enum BuildpackKind
{
    BuiltIn,
    Git,
    Tarball,
}
