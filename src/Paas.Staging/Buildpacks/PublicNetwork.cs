using System.Net;
using System.Net.Sockets;

namespace Paas.Staging.Buildpacks;

/// <summary>
/// Which addresses a tenant's buildpack fetch may connect to: public ones only. Loopback, private,
/// shared (CGNAT), link-local (cloud metadata at 169.254.169.254), unspecified and multicast addresses
/// belong to the platform's own network, where a fetch would be a request forgery (SSRF) against it.
/// </summary>
public static class PublicNetwork
{
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address))
            return false;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 0 || b[0] == 10 || b[0] >= 224
                || (b[0] == 100 && b[1] >= 64 && b[1] < 128)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] >= 16 && b[1] < 32)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)
                || (b[0] == 198 && (b[1] == 18 || b[1] == 19)));
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return !(address.Equals(IPAddress.IPv6None) || address.Equals(IPAddress.IPv6Any)
                || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast);
        }
        return false;
    }

    /// <summary>Resolves the host and throws when any of its addresses is not public (or it does not resolve).</summary>
    public static async Task<IPAddress[]> ResolvePublicAsync(string host, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        if (addresses.Length == 0 || !addresses.All(IsPublic))
            throw new NonPublicAddressException(host);
        return addresses;
    }

    /// <summary>
    /// An HTTP handler whose every connection (redirects included) goes only to public addresses: the
    /// address is checked after resolution, at connect time, so a DNS answer cannot change between the
    /// check and the connection.
    /// </summary>
    public static SocketsHttpHandler Handler() => new()
    {
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var addresses = await ResolvePublicAsync(context.DnsEndPoint.Host, cancellationToken);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}

/// <summary>A tenant's fetch named a host on the platform's own network.</summary>
public sealed class NonPublicAddressException(string host)
    : Exception($"{host} is not a public address.");
