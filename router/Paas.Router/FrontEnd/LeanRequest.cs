using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Paas.Router.Forwarding.Http1;

namespace Paas.Router.FrontEnd;

/// <summary>
/// A request head the front end forwards itself: HTTP/1.1, GET/HEAD/OPTIONS/DELETE, no body, no upgrade,
/// one well-formed Host, plain origin-form target, every line strictly CRLF-terminated and free of control
/// bytes. That is nearly all web traffic. Anything else, including anything merely unusual, is not
/// judged here: the connection goes to Kestrel, whose parser and the router's general path decide, so two
/// parsers never disagree about what a request means (the root of request smuggling).
/// </summary>
internal struct LeanRequest
{
    private static readonly SearchValues<byte> HostNameBytes =
        SearchValues.Create("-._0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    // More header lines than this go to Kestrel, which answers 431 at the same count (Program.cs).
    private const int MaxHeaderLines = 200;

    /// <summary>One of a few interned method strings.</summary>
    public string Method;

    public bool IsHead;

    /// <summary>The client asked to close the connection after this response.</summary>
    public bool CloseAfter;

    public Range Target;

    /// <summary>The Host value, trimmed.</summary>
    public Range Host;

    /// <summary>The port the client addressed, as written in Host; empty when Host has none (then 80).</summary>
    public Range Port;

    /// <summary>The client's X-Request-Id when it sent exactly one; otherwise an empty range.</summary>
    public Range RequestId;

    private enum Kind { Plain, Host, Connection, RequestId, ForwardedFor, Dropped, NotLean }

    /// <summary>
    /// Reads <paramref name="head"/> (request line through the blank line); false when the request is not one
    /// this path handles, in which case nothing about it is judged.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> head, out LeanRequest request)
    {
        request = default;
        var lineEnd = NextLine(head, 0, out var line);
        if (lineEnd < 0)
        {
            return false;
        }

        var firstSpace = line.IndexOf((byte)' ');
        // "M / HTTP/1.1" at least: "GET HTTP/1.1" (no target) would otherwise slice backwards and throw.
        if (firstSpace < 0 || line.Length < firstSpace + 1 + 1 + 9 || !line.EndsWith(" HTTP/1.1"u8))
        {
            return false;
        }

        request.Method = MethodString(line[..firstSpace])!;
        if (request.Method is null)
        {
            return false;
        }

        request.IsHead = ReferenceEquals(request.Method, HttpMethods.Head);
        var target = line[(firstSpace + 1)..^9];
        // Origin form, visible ASCII only: forwarded byte for byte, so no encoding question can arise.
        if (!Forwarding.RequestRules.IsForwardableTarget(target) || target[0] != '/')
        {
            return false;
        }

        request.Target = new Range(firstSpace + 1, firstSpace + 1 + target.Length);
        var position = lineEnd;
        var hosts = 0;
        var requestIds = 0;
        var lines = 0;
        while (true)
        {
            var start = position;
            position = NextLine(head, position, out line);
            if (position < 0)
            {
                return false;
            }

            if (line.IsEmpty)
            {
                break;
            }

            if (++lines > MaxHeaderLines || !SplitHeader(line, out var name, out var valueStart, out var valueLength))
            {
                return false;
            }

            var value = new Range(start + valueStart, start + valueStart + valueLength);
            switch (Classify(name))
            {
                case Kind.NotLean:
                    return false;
                case Kind.Host:
                    hosts++;
                    request.Host = value;
                    break;
                case Kind.RequestId:
                    requestIds++;
                    request.RequestId = value;
                    break;
                case Kind.Connection:
                    if (!ReadConnection(head[value], ref request))
                    {
                        return false;
                    }

                    break;
            }
        }

        if (hosts != 1 || !CheckHost(head, ref request))
        {
            return false;
        }

        if (requestIds != 1 || !Forwarding.RequestId.IsValid(head[request.RequestId]))
        {
            request.RequestId = default;
        }

        return true;
    }

    /// <summary>
    /// The head sent to the app: the client's request line and end-to-end headers as they came, then the
    /// headers the router stamps over anything the client sent (apps trust them, so a client must not choose
    /// them). The same set the general path writes (<see cref="Forwarding.Http1.RequestHead"/>).
    /// </summary>
    public readonly int Write(ReadOnlySpan<byte> head, ReadOnlySpan<byte> peer, ReadOnlySpan<byte> requestId, long requestStartUnixMs, ref byte[] output)
    {
        var writer = new HeadBuffer(output);
        var firstLineEnd = NextLine(head, 0, out var requestLine);
        writer.Append(requestLine);
        writer.Append("\r\n"u8);

        var position = firstLineEnd;
        var anyForwardedFor = false;
        while (true)
        {
            position = NextLine(head, position, out var line);
            if (line.IsEmpty)
            {
                break;
            }

            SplitHeader(line, out var name, out _, out _);
            var kind = Classify(name);
            if (kind is Kind.Plain or Kind.Host)
            {
                writer.Append(line);
                writer.Append("\r\n"u8);
            }

            anyForwardedFor |= kind == Kind.ForwardedFor;
        }

        // A chain the client brought is kept (apps behind more proxies need the whole chain), the peer appended.
        var forwardedFor = false;
        for (position = firstLineEnd; anyForwardedFor;)
        {
            var start = position;
            position = NextLine(head, position, out var line);
            if (line.IsEmpty)
            {
                break;
            }

            SplitHeader(line, out var name, out var valueStart, out var valueLength);
            if (Classify(name) == Kind.ForwardedFor && valueLength > 0)
            {
                writer.Append(forwardedFor ? ", "u8 : "X-Forwarded-For: "u8);
                writer.Append(head.Slice(start + valueStart, valueLength));
                forwardedFor = true;
            }
        }

        writer.Append(forwardedFor ? ", "u8 : "X-Forwarded-For: "u8);
        writer.Append(peer);
        writer.Append("\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: "u8);
        writer.Append(head[Host]);
        writer.Append("\r\nX-Forwarded-Port: "u8);
        writer.Append(head[Port].IsEmpty ? "80"u8 : head[Port]);
        writer.Append("\r\nX-Request-Start: "u8);
        writer.AppendNumber(requestStartUnixMs);
        writer.Append("\r\nX-Request-Id: "u8);
        writer.Append(requestId);
        writer.Append("\r\n\r\n"u8);
        output = writer.Bytes;
        return writer.Length;
    }

    /// <summary>The end of the line starting at <paramref name="start"/> (past its CRLF), or -1 if it has a bare CR or LF.</summary>
    private static int NextLine(ReadOnlySpan<byte> head, int start, out ReadOnlySpan<byte> line)
    {
        var rest = head[start..];
        var lf = rest.IndexOf((byte)'\n');
        line = default;
        if (lf < 1 || rest[lf - 1] != '\r')
        {
            return -1;
        }

        line = rest[..(lf - 1)];
        return line.Contains((byte)'\r') ? -1 : start + lf + 1;
    }

    private static bool SplitHeader(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out int valueStart, out int valueLength)
    {
        var colon = line.IndexOf((byte)':');
        name = colon > 0 ? line[..colon] : default;
        valueStart = 0;
        valueLength = 0;
        // A name of token bytes right up to the colon: no whitespace before it, no folded continuation line.
        if (colon <= 0 || !Forwarding.HeaderSyntax.IsName(name))
        {
            return false;
        }

        var value = line[(colon + 1)..];
        if (!Forwarding.HeaderSyntax.IsValue(value))
        {
            return false;
        }

        var trimmedStart = value.Length - value.TrimStart(" \t"u8).Length;
        valueStart = colon + 1 + trimmedStart;
        valueLength = value.Trim(" \t"u8).Length;
        return true;
    }

    private static Kind Classify(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 => Ascii.EqualsIgnoreCase(name, "TE"u8) ? Kind.Dropped : Kind.Plain,
        4 => Ascii.EqualsIgnoreCase(name, "Host"u8) ? Kind.Host : Kind.Plain,
        6 => Ascii.EqualsIgnoreCase(name, "Expect"u8) ? Kind.NotLean : Kind.Plain,
        // Client-addressing headers the router does not set: dropped, as apps (and their frameworks) may trust them.
        9 => Ascii.EqualsIgnoreCase(name, "X-Real-IP"u8) || Ascii.EqualsIgnoreCase(name, "Forwarded"u8) ? Kind.Dropped : Kind.Plain,
        7 => Ascii.EqualsIgnoreCase(name, "Upgrade"u8) ? Kind.NotLean
            : Ascii.EqualsIgnoreCase(name, "Trailer"u8) ? Kind.Dropped : Kind.Plain,
        10 => Ascii.EqualsIgnoreCase(name, "Connection"u8) ? Kind.Connection
            : Ascii.EqualsIgnoreCase(name, "Keep-Alive"u8) ? Kind.Dropped : Kind.Plain,
        12 => Ascii.EqualsIgnoreCase(name, "X-Request-Id"u8) ? Kind.RequestId : Kind.Plain,
        14 => Ascii.EqualsIgnoreCase(name, "Content-Length"u8) || Ascii.EqualsIgnoreCase(name, "HTTP2-Settings"u8) ? Kind.NotLean : Kind.Plain,
        15 => Ascii.EqualsIgnoreCase(name, "X-Forwarded-For"u8) ? Kind.ForwardedFor
            : Ascii.EqualsIgnoreCase(name, "X-Request-Start"u8) ? Kind.Dropped : Kind.Plain,
        16 => Ascii.EqualsIgnoreCase(name, "Proxy-Connection"u8) || Ascii.EqualsIgnoreCase(name, "X-Forwarded-Host"u8)
            || Ascii.EqualsIgnoreCase(name, "X-Forwarded-Port"u8) ? Kind.Dropped : Kind.Plain,
        17 => Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8) ? Kind.NotLean
            : Ascii.EqualsIgnoreCase(name, "X-Forwarded-Proto"u8) ? Kind.Dropped : Kind.Plain,
        19 => Ascii.EqualsIgnoreCase(name, "Proxy-Authorization"u8) ? Kind.Dropped : Kind.Plain,
        _ => Kind.Plain,
    };

    private static string? MethodString(ReadOnlySpan<byte> method) => method.Length switch
    {
        3 when method.SequenceEqual("GET"u8) => HttpMethods.Get,
        4 when method.SequenceEqual("HEAD"u8) => HttpMethods.Head,
        6 when method.SequenceEqual("DELETE"u8) => HttpMethods.Delete,
        7 when method.SequenceEqual("OPTIONS"u8) => HttpMethods.Options,
        _ => null,
    };

    /// <summary>Connection tokens: "close" ends the connection after this exchange; "upgrade" is not for this path.</summary>
    private static bool ReadConnection(ReadOnlySpan<byte> value, ref LeanRequest request)
    {
        foreach (var range in value.Split((byte)','))
        {
            var token = value[range].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(token, "close"u8))
            {
                request.CloseAfter = true;
            }
            else if (Ascii.EqualsIgnoreCase(token, "upgrade"u8))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A plain host name or IPv4 address with an optional port; IPv6 literals and anything odd go to Kestrel.</summary>
    private static bool CheckHost(ReadOnlySpan<byte> head, ref LeanRequest request)
    {
        var (offset, length) = request.Host.GetOffsetAndLength(head.Length);
        var host = head.Slice(offset, length);
        var colon = host.IndexOf((byte)':');
        var name = colon < 0 ? host : host[..colon];
        if (name.IsEmpty || name.ContainsAnyExcept(HostNameBytes))
        {
            return false;
        }

        if (colon >= 0)
        {
            var port = host[(colon + 1)..];
            if (port.IsEmpty || port.Length > 5 || port.ContainsAnyExceptInRange((byte)'0', (byte)'9')
                || !Utf8Parser.TryParse(port, out int number, out _) || number > 65535)
            {
                return false;
            }

            request.Port = new Range(offset + colon + 1, offset + length);
        }

        return true;
    }
}
