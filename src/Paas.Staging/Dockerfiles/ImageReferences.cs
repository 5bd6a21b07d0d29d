namespace Paas.Staging.Dockerfiles;

/// <summary>
/// Which registry an image reference names, by Docker's rule (the first path part is a registry when it has a dot or
/// a port, or is localhost; otherwise the image is on Docker Hub), so a stored login and a pull agree on the name.
/// </summary>
public static class ImageReferences
{
    public const string DockerHub = "docker.io";

    /// <summary>The registry host[:port] of <paramref name="image"/>, lower-case; <see cref="DockerHub"/> for Docker Hub images.</summary>
    public static string Registry(string image)
    {
        var first = image.Split('/')[0];
        return image.Contains('/') && (first.Contains('.') || first.Contains(':') || first == "localhost")
            ? Normalise(first)
            : DockerHub;
    }

    /// <summary>
    /// A registry as a user types it (`https://registry.example.com/`, `REGISTRY.example.com:5000`, `index.docker.io`)
    /// as <see cref="Registry"/> names it; null when it is not a host[:port].
    /// </summary>
    public static string? NormaliseOrNull(string? text)
    {
        var value = text?.Trim() ?? "";
        foreach (var scheme in new[] { "https://", "http://" })
        {
            if (value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
                value = value[scheme.Length..];
        }
        var slash = value.IndexOf('/');
        if (slash >= 0)
            value = value[..slash];
        if (value.Length == 0 || value.Length > 255 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']'))
            return null;
        return Normalise(value);
    }

    private static string Normalise(string host)
    {
        var lower = host.ToLowerInvariant();
        return lower is "index.docker.io" or "registry-1.docker.io" or "registry.hub.docker.com" ? DockerHub : lower;
    }
}
