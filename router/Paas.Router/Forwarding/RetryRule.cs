using Yarp.ReverseProxy.Forwarder;

namespace Paas.Router.Forwarding;

/// <summary>When a failed attempt may be sent again, to another instance.</summary>
public static class RetryRule
{
    public const int MaxAttempts = 3;

    /// <summary>
    /// A retry is allowed only when the app provably did not act on the request, or acting twice is harmless:
    /// <list type="number">
    /// <item>The TCP connection to the instance failed (refused, unreachable, connect timeout). Nothing of the
    /// request, not even its headers, left the router, and its body has not been read from the client, so
    /// any method, POST included, can go elsewhere unchanged.</item>
    /// <item>The method is idempotent (RFC 9110 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE), the request has
    /// no body, and the instance closed the connection before sending any response. Repeating such a
    /// request has the same effect as sending it once, and with no body there is nothing we would have
    /// to replay.</item>
    /// </list>
    /// Never retried: a timeout (the app may still be working on it, and retrying a slow app multiplies its
    /// load), a request whose body was sent (a POST that reached the app may have charged a card), or
    /// anything after the response started (the client already has part of an answer).
    /// </summary>
    public static bool IsSafe(HttpContext context, ForwarderError error, Exception? exception)
    {
        if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return false;
        }

        if (ConnectFailure.IsBeforeRequestSent(error, exception))
        {
            return true;
        }

        return error == ForwarderError.Request
            && IsIdempotent(context.Request.Method)
            && !HasBody(context)
            && ClosedBeforeResponse(exception);
    }

    public static bool IsIdempotent(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)
        || HttpMethods.IsTrace(method) || HttpMethods.IsPut(method) || HttpMethods.IsDelete(method);

    private static bool HasBody(HttpContext context) =>
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? true;

    private static bool ClosedBeforeResponse(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ResponseEnded }
                || e is HttpIOException { HttpRequestError: HttpRequestError.ResponseEnded })
            {
                return true;
            }
        }

        return false;
    }
}
