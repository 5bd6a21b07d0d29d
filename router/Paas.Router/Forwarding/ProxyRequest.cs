using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.Net.Http.Headers;
using Paas.Router.Table;
using Yarp.ReverseProxy.Forwarder;

namespace Paas.Router.Forwarding;

/// <summary>
/// One request on its way through the router: the transformer YARP calls for each attempt, and the
/// record of what happened (endpoint, attempts, upstream time, bytes) the access log and metrics read.
/// One small object per request; everything it logs is a reference to a string that exists anyway.
/// </summary>
public sealed class ProxyRequest : HttpTransformer
{
    public ProxyRequest(string requestId, long started)
    {
        RequestId = requestId;
        Started = started;
    }

    public string RequestId { get; }

    /// <summary><see cref="Stopwatch.GetTimestamp"/> when the router began handling the request.</summary>
    public long Started { get; }

    public AppPool? Pool { get; set; }

    public string? App { get; set; }

    public Destination? Destination { get; set; }

    public int Attempts { get; set; }

    public string? Error { get; set; }

    /// <summary>Set-Cookie value for a sticky session, added to the app's response.</summary>
    public string? StickyCookie { get; set; }

    /// <summary><see cref="Stopwatch.GetTimestamp"/> when the current attempt started, and when its response headers came back.</summary>
    public long AttemptStarted { get; set; }

    public long UpstreamHeaders { get; set; }

    public CountingStream? Counter { get; private set; }

    /// <summary>Body bytes sent to the client, when the forwarder counted them itself.</summary>
    public long? ResponseBytes { get; set; }

    public override async ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        // Copies the client's headers minus the hop-by-hop ones (Connection, Keep-Alive, Proxy-Connection,
        // Transfer-Encoding, Upgrade outside an upgrade, ...) and keeps the original Host, so apps see the
        // name they were called by. Headers a client lists in Connection as its own hop-by-hop ones cannot be
        // honoured: Kestrel reduces the Connection header to its standard tokens before the router sees it.
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

        var request = httpContext.Request;
        var headers = proxyRequest.Headers;

        // Stamped over whatever the client sent: apps trust these, so a client must not choose them.
        Set(headers, "X-Forwarded-For", ForwardedHeaderValues.AppendFor(request.Headers["X-Forwarded-For"], httpContext.Connection.RemoteIpAddress));
        Set(headers, "X-Forwarded-Proto", request.Scheme);
        Set(headers, "X-Forwarded-Host", request.Host.HasValue ? request.Host.Value : null);
        Set(headers, "X-Forwarded-Port", ForwardedHeaderValues.Port(request.Host, request.Scheme));
        Set(headers, "X-Request-Start", RequestStartValue(Started));
        // Set by some proxies, never by this one: a client must not choose them either.
        headers.Remove("X-Real-IP");
        headers.Remove("Forwarded");
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        UpstreamHeaders = Stopwatch.GetTimestamp();
        var result = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        if (proxyResponse is null)
        {
            return result;
        }

        if (StickyCookie is not null)
        {
            httpContext.Response.Headers.Append(HeaderNames.SetCookie, StickyCookie);
        }

        // Without a Content-Length (chunked, server-sent events) the only way to know the bytes sent is to
        // count them; with one, the header is the count and no wrapper is needed.
        if (proxyResponse.Content.Headers.ContentLength is null && (int)proxyResponse.StatusCode != StatusCodes.Status101SwitchingProtocols)
        {
            Counter = new CountingStream(httpContext.Response.Body);
            httpContext.Response.Body = Counter;
        }

        return result;
    }

    /// <summary>Unix milliseconds when the router received the request (the format Heroku's router uses).</summary>
    public static string RequestStartValue(long started) => RequestStartUnixMs(started).ToString(CultureInfo.InvariantCulture);

    public static long RequestStartUnixMs(long started) => (DateTimeOffset.UtcNow - Stopwatch.GetElapsedTime(started)).ToUnixTimeMilliseconds();

    private static void Set(HttpRequestHeaders headers, string name, string? value)
    {
        headers.Remove(name);
        if (!string.IsNullOrEmpty(value))
        {
            headers.TryAddWithoutValidation(name, value);
        }
    }
}
