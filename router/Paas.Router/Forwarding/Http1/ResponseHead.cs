using System.Buffers.Text;
using System.Text;

namespace Paas.Router.Forwarding.Http1;

/// <summary>
/// The status line and headers of an app's response, parsed from the bytes it sent. One instance per
/// backend connection, reused for every response on it. Header strings come from a per-connection cache
/// keyed by the header's position: an app answers with the same headers in the same order nearly every
/// time, so after the first response only values that really change (Date, say) cost a new string.
/// </summary>
public sealed class ResponseHead
{
    /// <summary>Larger heads are refused; the same default limit as nginx's proxy buffer for headers (8 KiB) times two.</summary>
    public const int MaxHeadBytes = 16 * 1024;

    private const int CachedHeaders = 32;

    private readonly CachedHeader[] _cache = new CachedHeader[CachedHeaders];
    private readonly List<KeyValuePair<string, string>> _headers = new(16);
    private readonly bool _keepHeaders;

    /// <param name="keepHeaders">False when the caller copies header lines itself and needs only status and framing.</param>
    public ResponseHead(bool keepHeaders = true) => _keepHeaders = keepHeaders;

    public int StatusCode { get; private set; }

    /// <summary>The body's length, or -1 when the response did not say.</summary>
    public long ContentLength { get; private set; }

    public bool Chunked { get; private set; }

    /// <summary>
    /// A transfer coding other than chunked: the body runs until the app closes the connection. (So does a
    /// body with neither length nor chunking, for statuses and methods that have one; the caller knows which.)
    /// </summary>
    public bool UntilClose { get; private set; }

    /// <summary>Whether the connection may carry another request once this response is read.</summary>
    public bool KeepAlive { get; private set; }

    /// <summary>End-to-end headers for the client, hop-by-hop and framing headers removed.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers => _headers;

    public enum Result { Incomplete, Complete, Invalid }

    /// <summary>Parses a response head at the start of <paramref name="input"/>; on success it is <paramref name="length"/> bytes long.</summary>
    public Result TryParse(ReadOnlySpan<byte> input, out int length)
    {
        length = 0;
        var lineEnd = input.IndexOf((byte)'\n');
        if (lineEnd < 0)
        {
            return input.Length > MaxHeadBytes ? Result.Invalid : Result.Incomplete;
        }

        // "HTTP/1.1 200 OK": the version's minor digit decides the keep-alive default.
        var statusLine = TrimCr(input[..lineEnd]);
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || statusLine[8] != ' '
            || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out var used) || used != 3
            || status < 100 || status > 999 || (statusLine.Length > 12 && statusLine[12] != ' '))
        {
            return Result.Invalid;
        }

        StatusCode = status;
        KeepAlive = statusLine[7] == '1';
        ContentLength = -1;
        Chunked = false;
        UntilClose = false;
        _headers.Clear();

        var position = lineEnd + 1;
        var index = 0;
        while (true)
        {
            var rest = input[position..];
            lineEnd = rest.IndexOf((byte)'\n');
            if (lineEnd < 0)
            {
                return position + rest.Length > MaxHeadBytes ? Result.Invalid : Result.Incomplete;
            }

            var line = TrimCr(rest[..lineEnd]);
            position += lineEnd + 1;
            if (position > MaxHeadBytes)
            {
                return Result.Invalid;
            }

            if (line.IsEmpty)
            {
                length = position;
                if (Chunked && ContentLength >= 0)
                {
                    // Both framings at once is how request smuggling starts: believe chunked (RFC 9112 6.3)
                    // and do not put another request on this connection.
                    ContentLength = -1;
                    KeepAlive = false;
                }

                if (UntilClose)
                {
                    KeepAlive = false;
                }

                return Result.Complete;
            }

            var colon = line.IndexOf((byte)':');
            // No name, whitespace before the colon (RFC 9112 5.1) or an obsolete folded line: a response
            // that different parsers could read differently is not passed on.
            if (colon <= 0 || line[0] is (byte)' ' or (byte)'\t' || line[colon - 1] is (byte)' ' or (byte)'\t')
            {
                return Result.Invalid;
            }

            var name = line[..colon];
            var rawValue = line[(colon + 1)..];
            // A bare CR or another control byte in either half could split the head for the client.
            if (!HeaderSyntax.IsName(name) || !HeaderSyntax.IsValue(rawValue))
            {
                return Result.Invalid;
            }

            var value = rawValue.Trim(" \t"u8);
            if (!Classify(name, value))
            {
                return Result.Invalid;
            }

            if (!_keepHeaders || KindOf(name) != HeaderKind.EndToEnd)
            {
                continue;
            }

            _headers.Add(index < CachedHeaders ? _cache[index].Get(line, name, value) : CachedHeader.Decode(name, value));
            index++;
        }
    }

    /// <summary>Reads the headers that decide framing and connection reuse; false for a contradictory Content-Length.</summary>
    private bool Classify(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (name.Length == 14 && Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
        {
            if (!Utf8Parser.TryParse(value, out long parsed, out var used) || used != value.Length || parsed < 0
                || (ContentLength >= 0 && ContentLength != parsed))
            {
                return false;
            }

            ContentLength = parsed;
        }
        else if (name.Length == 17 && Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
        {
            // Chunked must be the last coding for the length to be known (RFC 9112 6.3); anything else runs to close.
            var last = value[(value.LastIndexOf((byte)',') + 1)..].Trim(" \t"u8);
            Chunked = Ascii.EqualsIgnoreCase(last, "chunked"u8);
            UntilClose = !Chunked;
        }
        else if (name.Length == 10 && Ascii.EqualsIgnoreCase(name, "Connection"u8))
        {
            foreach (var range in value.Split((byte)','))
            {
                var token = value[range].Trim(" \t"u8);
                if (Ascii.EqualsIgnoreCase(token, "close"u8))
                {
                    KeepAlive = false;
                    break;
                }

                if (Ascii.EqualsIgnoreCase(token, "keep-alive"u8))
                {
                    KeepAlive = true;
                }
            }
        }

        return true;
    }

    public enum HeaderKind { EndToEnd, HopByHop, ContentLength, TransferEncoding }

    /// <summary>
    /// Headers about this connection or this hop (never passed on), and the two framing headers, which the
    /// side facing the client writes for itself.
    /// </summary>
    public static HeaderKind KindOf(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 when Ascii.EqualsIgnoreCase(name, "TE"u8) => HeaderKind.HopByHop,
        7 when Ascii.EqualsIgnoreCase(name, "Upgrade"u8) || Ascii.EqualsIgnoreCase(name, "Trailer"u8) => HeaderKind.HopByHop,
        10 when Ascii.EqualsIgnoreCase(name, "Connection"u8) || Ascii.EqualsIgnoreCase(name, "Keep-Alive"u8) => HeaderKind.HopByHop,
        14 when Ascii.EqualsIgnoreCase(name, "Content-Length"u8) => HeaderKind.ContentLength,
        16 when Ascii.EqualsIgnoreCase(name, "Proxy-Connection"u8) => HeaderKind.HopByHop,
        17 when Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8) => HeaderKind.TransferEncoding,
        18 when Ascii.EqualsIgnoreCase(name, "Proxy-Authenticate"u8) => HeaderKind.HopByHop,
        _ => HeaderKind.EndToEnd,
    };

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) =>
        line.Length > 0 && line[^1] == '\r' ? line[..^1] : line;

    /// <summary>The strings last made for the header at one position, with the bytes they were made from.</summary>
    private struct CachedHeader
    {
        private byte[]? _line;
        private int _length;
        private KeyValuePair<string, string> _header;

        public KeyValuePair<string, string> Get(ReadOnlySpan<byte> line, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            if (_line is not null && line.SequenceEqual(_line.AsSpan(0, _length)))
            {
                return _header;
            }

            // Same name, new value (a Date, a Content-Type that varies): keep the name's string.
            var nameString = _header.Key is { } previous && previous.Length == name.Length && Ascii.Equals(name, previous)
                ? previous
                : Encoding.Latin1.GetString(name);
            _header = new KeyValuePair<string, string>(nameString, Encoding.Latin1.GetString(value));
            if (_line is null || _line.Length < line.Length)
            {
                _line = new byte[Math.Max(line.Length, 64)];
            }

            line.CopyTo(_line);
            _length = line.Length;
            return _header;
        }

        public static KeyValuePair<string, string> Decode(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
            new(Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value));
    }
}
