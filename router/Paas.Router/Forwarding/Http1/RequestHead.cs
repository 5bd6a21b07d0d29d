using System.Collections.Frozen;
using System.Net;
using Microsoft.Extensions.Primitives;

namespace Paas.Router.Forwarding.Http1;

/// <summary>
/// Writes the request head the router sends to an app: the client's request line and end-to-end headers,
/// then the X-Forwarded-* and X-Request-Start headers the router stamps over anything the client sent
/// (apps trust them, so a client must not choose them). Bytes go straight into a buffer owned by the
/// backend connection; nothing is allocated for a request whose headers fit.
/// </summary>
public sealed class RequestHead
{
    /// <summary>Not passed on: about the client's connection, or set by the router itself.</summary>
    private static readonly FrozenSet<string> Replaced = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "Proxy-Authorization", "HTTP2-Settings",
        "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Request-Start",
        // Set by some proxies, never by this one: a client must not choose them either.
        "X-Real-IP", "Forwarded");

    private HeadBuffer _head = new(new byte[4096]);

    public ReadOnlyMemory<byte> Written => _head.Written;

    /// <summary>
    /// The head for one request. <paramref name="target"/> is the request-target exactly as the client sent
    /// it (origin form), so percent-encoding the app may care about is passed on untouched.
    /// </summary>
    public void Write(string method, string target, IHeaderDictionary headers, string scheme, HostString host,
        IPAddress? peer, long requestStartUnixMs)
    {
        _head.Length = 0;
        Append(method);
        Append(" "u8);
        Append(target);
        Append(" HTTP/1.1\r\n"u8);

        StringValues forwardedFor = default;
        foreach (var header in headers)
        {
            if (Replaced.Contains(header.Key))
            {
                if (string.Equals(header.Key, "X-Forwarded-For", StringComparison.OrdinalIgnoreCase))
                {
                    forwardedFor = header.Value;
                }

                continue;
            }

            foreach (var value in header.Value)
            {
                Append(header.Key);
                Append(": "u8);
                Append(value);
                Append("\r\n"u8);
            }
        }

        WriteForwardedFor(forwardedFor, peer);
        Append("X-Forwarded-Proto: "u8);
        Append(scheme);
        if (host.HasValue)
        {
            Append("\r\nX-Forwarded-Host: "u8);
            Append(host.Value);
        }

        // The port the client addressed, by the same rule as the general path (ForwardedHeaderValues.Port),
        // written without making a string for it.
        Append("\r\nX-Forwarded-Port: "u8);
        if (host.Port is { } port)
        {
            AppendNumber(port);
        }
        else
        {
            Append(ForwardedHeaderValues.DefaultPort(scheme));
        }

        Append("\r\nX-Request-Start: "u8);
        AppendNumber(requestStartUnixMs);
        Append("\r\n\r\n"u8);
    }

    /// <summary>Appends the peer to any chain the client brought: apps behind more proxies need the whole chain.</summary>
    private void WriteForwardedFor(StringValues existing, IPAddress? peer)
    {
        var any = false;
        foreach (var value in existing)
        {
            var trimmed = value.AsSpan().Trim();
            if (trimmed.IsEmpty)
            {
                continue;
            }

            Append(any ? ", "u8 : "X-Forwarded-For: "u8);
            Append(trimmed);
            any = true;
        }

        if (peer is not null)
        {
            if (peer.IsIPv4MappedToIPv6)
            {
                peer = peer.MapToIPv4();
            }

            Append(any ? ", "u8 : "X-Forwarded-For: "u8);
            _head.AppendFormatted((IUtf8SpanFormattable)peer, 64);
            any = true;
        }

        if (any)
        {
            Append("\r\n"u8);
        }
    }

    private void Append(ReadOnlySpan<byte> bytes) => _head.Append(bytes);

    private void Append(ReadOnlySpan<char> text) => _head.AppendLatin1(text);

    private void Append(string? text) => _head.AppendLatin1(text.AsSpan());

    private void AppendNumber(long value) => _head.AppendNumber(value);
}
