using System.Buffers;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace Paas.Router.FrontEnd;

/// <summary>
/// Kestrel's side of a hand-over from the front end: each connection on the private Unix socket starts
/// with a PROXY protocol (v1) line naming the client and the address it reached; the connection takes
/// those as its endpoints, so the general path sees the same client address (X-Forwarded-For, access
/// log) it would have seen had the client connected to Kestrel directly.
/// </summary>
public static class ProxyProtocolHandoff
{
    // "PROXY TCP6 " + two full IPv6 addresses + two ports + CRLF, per the protocol's own limit.
    private const int MaxLineBytes = 107;

    public static Func<ConnectionDelegate, ConnectionDelegate> Middleware(ILogger logger) => next => async connection =>
    {
        var input = connection.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync(connection.ConnectionClosed);
            var buffer = result.Buffer;
            var lineEnd = buffer.PositionOf((byte)'\n');
            if (lineEnd is null)
            {
                if (result.IsCompleted || buffer.Length > MaxLineBytes)
                {
                    logger.LogWarning("Hand-over connection without a PROXY line; closed");
                    return;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            var line = Encoding.ASCII.GetString(buffer.Slice(0, lineEnd.Value));
            input.AdvanceTo(buffer.GetPosition(1, lineEnd.Value));
            if (!TryParse(line, out var remote, out var local))
            {
                logger.LogWarning("Hand-over connection with a malformed PROXY line; closed");
                return;
            }

            if (remote is not null)
            {
                connection.RemoteEndPoint = remote;
                connection.LocalEndPoint = local;
            }

            break;
        }

        await next(connection);
    };

    /// <summary>"PROXY TCP4 src dst sport dport" (or TCP6), or "PROXY UNKNOWN" (endpoints then null).</summary>
    public static bool TryParse(string line, out IPEndPoint? remote, out IPEndPoint? local)
    {
        remote = null;
        local = null;
        var parts = line.TrimEnd('\r').Split(' ');
        if (parts.Length >= 2 && parts[0] == "PROXY" && parts[1] == "UNKNOWN")
        {
            return true;
        }

        if (parts.Length != 6 || parts[0] != "PROXY" || parts[1] is not ("TCP4" or "TCP6")
            || !IPAddress.TryParse(parts[2], out var source) || !IPAddress.TryParse(parts[3], out var destination)
            || !ushort.TryParse(parts[4], out var sourcePort) || !ushort.TryParse(parts[5], out var destinationPort))
        {
            return false;
        }

        remote = new IPEndPoint(source, sourcePort);
        local = new IPEndPoint(destination, destinationPort);
        return true;
    }
}
