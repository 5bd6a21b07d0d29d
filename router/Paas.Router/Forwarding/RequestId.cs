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

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");

    public static bool IsValid(string? value) =>
        !string.IsNullOrEmpty(value)
        && value.Length <= MaxLength
        && !value.AsSpan().ContainsAnyExcept(Allowed);

    public static string New() => Guid.NewGuid().ToString("D");

    /// <summary>The id to forward: the incoming one when it is a single well-formed value, else a fresh one.</summary>
    public static string Resolve(StringValues incoming) =>
        incoming.Count == 1 && IsValid(incoming[0]) ? incoming[0]! : New();
}
