using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Paas.Router.Forwarding;

/// <summary>Computes the X-Forwarded-* values the router sends to apps.</summary>
public static class ForwardedHeaderValues
{
    /// <summary>
    /// Appends the peer to any chain the client brought. The client's part is untrusted, but apps that
    /// sit behind more proxies need the whole chain, and our own entry is always the last one.
    /// </summary>
    public static string? AppendFor(StringValues existing, IPAddress? peer)
    {
        var chain = string.Join(", ", existing.Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v!.Trim()));
        if (peer is null)
        {
            return chain.Length == 0 ? null : chain;
        }

        if (peer.IsIPv4MappedToIPv6)
        {
            peer = peer.MapToIPv4();
        }

        var self = peer.ToString();
        return chain.Length == 0 ? self : chain + ", " + self;
    }

    /// <summary>
    /// The port the client addressed. A Host without a port means the scheme's default (RFC 9110),
    /// which is what the client really used even when a port mapping sends it to a different local port.
    /// </summary>
    public static string Port(HostString host, string scheme)
    {
        if (host.Port is { } port)
        {
            return port.ToString(CultureInfo.InvariantCulture);
        }

        return DefaultPort(scheme);
    }

    /// <summary>The port a Host without one means (RFC 9110).</summary>
    public static string DefaultPort(string scheme) =>
        string.Equals(scheme, "https", StringComparison.OrdinalIgnoreCase) ? "443" : "80";
}
