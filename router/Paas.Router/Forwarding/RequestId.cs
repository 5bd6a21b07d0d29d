using System.Buffers;
using Microsoft.Extensions.Primitives;

namespace Paas.Router.Forwarding;

/// <summary>
/// X-Request-Id handling: a caller's id is kept so traces join up across systems, but only if it is
/// short and plain enough that apps can log it safely; anything else is replaced.
/// </summary>
public static class RequestId
{
    public const string HeaderName = "X-Request-Id";
    public const int MaxLength = 200;

    private const string AllowedCharacters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-";
    private static readonly SearchValues<char> Allowed = SearchValues.Create(AllowedCharacters);
    private static readonly SearchValues<byte> AllowedBytes = SearchValues.Create(System.Text.Encoding.ASCII.GetBytes(AllowedCharacters));

    public static bool IsValid(string? value) =>
        !string.IsNullOrEmpty(value)
        && value.Length <= MaxLength
        && !value.AsSpan().ContainsAnyExcept(Allowed);

    /// <summary>The same rule for an id still in the bytes the client sent.</summary>
    public static bool IsValid(ReadOnlySpan<byte> value) =>
        !value.IsEmpty && value.Length <= MaxLength && !value.ContainsAnyExcept(AllowedBytes);

    /// <summary>The length of the ids <see cref="New"/> and <see cref="WriteNew"/> make.</summary>
    public const int NewLength = 36;

    /// <summary>A random version-4 UUID (see <see cref="WriteNew"/>).</summary>
    public static string New()
    {
        Span<byte> text = stackalloc byte[NewLength];
        WriteNew(text);
        return System.Text.Encoding.ASCII.GetString(text);
    }

    /// <summary>
    /// Writes a random version-4 UUID as text into <paramref name="destination"/> (at least
    /// <see cref="NewLength"/> bytes) and returns its length. Not <see cref="Guid.NewGuid"/>, which reads the
    /// kernel's random source: a system call on every request that has no id, for an id that needs to be
    /// unique, not unguessable. Bytes rather than a string so the router's fast path allocates nothing per request.
    /// </summary>
    public static int WriteNew(Span<byte> destination)
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        new Guid(bytes).TryFormat(destination, out var written, "D");
        return written;
    }

    /// <summary>The id to forward: the incoming one when it is a single well-formed value, else a fresh one.</summary>
    public static string Resolve(StringValues incoming) =>
        incoming.Count == 1 && IsValid(incoming[0]) ? incoming[0]! : New();
}
