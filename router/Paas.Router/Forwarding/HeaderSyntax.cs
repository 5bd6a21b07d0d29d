using System.Buffers;

namespace Paas.Router.Forwarding;

/// <summary>
/// RFC 9110's grammar for a header line's two halves, the one definition every parser here uses: the event
/// loop's request heads (<see cref="FrontEnd.LeanRequest"/>) and every app's response head
/// (<see cref="Http1.ResponseHead"/>, which both the event loop and the Kestrel path's HTTP/1.1 client read with).
/// A name is a token; a value is visible bytes, spaces, tabs and obs-text, and never CR, LF, NUL or another
/// control byte, which could split a head in two for whoever reads it next.
/// </summary>
public static class HeaderSyntax
{
    private static readonly SearchValues<byte> TokenBytes =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    private static readonly SearchValues<byte> ValueBytes = SearchValues.Create(
        [9, .. Enumerable.Range(0x20, 0x7F - 0x20).Select(b => (byte)b), .. Enumerable.Range(0x80, 0x80).Select(b => (byte)b)]);

    public static bool IsName(ReadOnlySpan<byte> name) => !name.IsEmpty && !name.ContainsAnyExcept(TokenBytes);

    public static bool IsValue(ReadOnlySpan<byte> value) => !value.ContainsAnyExcept(ValueBytes);
}
