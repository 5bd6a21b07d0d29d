using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Paas.Router.Forwarding;

/// <summary>
/// What makes a request unfit to forward, whichever front end read it. The event loop's own path takes only
/// requests these rules could never refuse (<see cref="FrontEnd.LeanRequest"/> checks the target with
/// <see cref="IsForwardableTarget(ReadOnlySpan{byte})"/> and hands anything with a body to Kestrel); everything else
/// reaches <see cref="ProxyHandler"/>, which asks <see cref="Refusal"/> first. Kestrel's parser already refuses
/// most malformed heads (obs-fold, bare CR, NUL, duplicate Host, duplicate Content-Length) and normalises the
/// framing ones: with both Content-Length and Transfer-Encoding it drops Content-Length and reads the chunks, as
/// RFC 9112 §6.3 asks of an intermediary, and the router writes a fresh head, so the app can only ever see one
/// framing. What it lets through that a proxy must not pass on is checked here (HostileRequestTests holds the table).
/// </summary>
public static class RequestRules
{
    // Visible ASCII: a target forwarded byte for byte, so no encoding or splitting question can arise.
    private static readonly SearchValues<char> TargetChars = SearchValues.Create(
        Enumerable.Range(0x21, 0x7E - 0x21 + 1).Select(c => (char)c).ToArray());

    public static bool IsForwardableTarget(ReadOnlySpan<byte> target) =>
        !target.IsEmpty && !target.ContainsAnyExceptInRange((byte)0x21, (byte)0x7E);

    public static bool IsForwardableTarget(ReadOnlySpan<char> target) =>
        !target.IsEmpty && !target.ContainsAnyExcept(TargetChars);

    /// <summary>One sentence saying why the request is refused with 400, or null when it may be forwarded.</summary>
    public static string? Refusal(HttpRequest request)
    {
        var target = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.Value ?? "";
        if (!IsForwardableTarget(target))
        {
            return "The request target contains a space or a control character.";
        }

        return null;
    }
}
