namespace Paas.Router.Table;

/// <summary>
/// Turns a Host header into the key used in the hosts hash. The controller writes keys lowercase and
/// without a port, so a browser's "Hello.LocalHost:8080" must land on "hello.localhost".
/// </summary>
public static class HostName
{
    public static string Normalize(string? hostHeader)
    {
        var host = Strip(hostHeader.AsSpan());
        return host.IsEmpty ? string.Empty : host.ToString().ToLowerInvariant();
    }

    /// <summary>The host part of a Host header, without port or trailing dot; case is left as is.</summary>
    public static ReadOnlySpan<char> Strip(ReadOnlySpan<char> host)
    {
        host = host.Trim();
        if (host.IsEmpty)
        {
            return host;
        }

        if (host[0] == '[')
        {
            // IPv6 literal: the colons inside the brackets are not a port separator.
            var close = host.IndexOf(']');
            host = close < 0 ? host : host[..(close + 1)];
        }
        else
        {
            var colon = host.IndexOf(':');
            if (colon >= 0)
            {
                host = host[..colon];
            }
        }

        // "example.com." is the fully qualified spelling of "example.com"; both must route the same.
        if (host.Length > 1 && host[^1] == '.')
        {
            host = host[..^1];
        }

        return host;
    }
}
