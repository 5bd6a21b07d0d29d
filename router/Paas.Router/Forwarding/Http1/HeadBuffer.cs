using System.Buffers.Text;
using System.Text;

namespace Paas.Router.Forwarding.Http1;

/// <summary>
/// The bytes of a request head being written for an app, in an array that doubles when a head is unusually
/// large. A mutable struct: keep it in a field or a local and call it in place, never through a copy.
/// </summary>
internal struct HeadBuffer(byte[] bytes)
{
    public byte[] Bytes = bytes;

    public int Length;

    public readonly ReadOnlyMemory<byte> Written => Bytes.AsMemory(0, Length);

    public void Append(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(Bytes.AsSpan(Length));
        Length += bytes.Length;
    }

    /// <summary>
    /// Latin-1 both ways (Kestrel decodes request headers as Latin-1 too): every byte the client sent is
    /// passed on as that same byte.
    /// </summary>
    public void AppendLatin1(ReadOnlySpan<char> text)
    {
        Ensure(text.Length);
        Length += Encoding.Latin1.GetBytes(text, Bytes.AsSpan(Length));
    }

    public void AppendNumber(long value)
    {
        Ensure(20);
        Utf8Formatter.TryFormat(value, Bytes.AsSpan(Length), out var written);
        Length += written;
    }

    /// <summary>Appends a value that formats itself as UTF-8 in at most <paramref name="maxBytes"/> bytes (an IP address, say).</summary>
    public void AppendFormatted<T>(T value, int maxBytes) where T : IUtf8SpanFormattable
    {
        Ensure(maxBytes);
        value.TryFormat(Bytes.AsSpan(Length), out var written, default, null);
        Length += written;
    }

    private void Ensure(int more)
    {
        if (Length + more > Bytes.Length)
        {
            Array.Resize(ref Bytes, Math.Max(Bytes.Length * 2, Length + more));
        }
    }
}
