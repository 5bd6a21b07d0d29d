using System.Text;

namespace Paas.Router.Forwarding;

/// <summary>
/// The router's own short error responses. The header lets tooling tell a router-made error from
/// an identical status code produced by the app itself.
/// </summary>
public static class RouterErrorPage
{
    public const string HeaderName = "X-Paas-Router-Error";
    public const string UnknownRoute = "unknown_route";
    public const string NoEndpoints = "no_endpoints";
    public const string EndpointFailure = "endpoint_failure";
    public const string Timeout = "timeout";
    public const string HeadersTooLarge = "headers_too_large";
    public const string BodyTooLarge = "body_too_large";
    public const string BadRequest = "bad_request";
    public const string Maintenance = "maintenance";

    /// <summary>Not a page (nobody is left to read it) but a reason for the access log.</summary>
    public const string ClientClosed = "client_closed";

    /// <summary>
    /// The same response as <see cref="WriteAsync"/>, as the bytes the front end's event loop sends itself
    /// (<see cref="FrontEnd.FrontEndLoop"/>). Errors are rare; allocating here is fine.
    /// </summary>
    public static byte[] Render(int statusCode, string code, string message, string requestId, bool headOnly, bool close)
    {
        var body = message + "\n";
        var head = $"HTTP/1.1 {statusCode} {Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(statusCode)}\r\n"
            + $"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n"
            + $"{HeaderName}: {code}\r\nCache-Control: no-store\r\n{RequestId.HeaderName}: {requestId}\r\n"
            + (close ? "Connection: close\r\n" : "") + "\r\n";
        return Encoding.UTF8.GetBytes(headOnly ? head : head + body);
    }

    /// <summary>
    /// The page of an app in maintenance (<c>paas maintenance:on</c>): 503 with <c>Retry-After</c>, so browsers
    /// and crawlers come back rather than treat the app as gone. Both front ends serve it from here: the event
    /// loop hands such requests to this path, as it does unknown hosts.
    /// </summary>
    public static Task WriteMaintenanceAsync(HttpContext context, string app, string? requestId)
    {
        context.Response.OnStarting(() =>
        {
            context.Response.Headers.RetryAfter = Paas.Core.Routing.AppRouteOptions.MaintenanceRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        });
        return WriteAsync(context, StatusCodes.Status503ServiceUnavailable, Maintenance,
            $"{app} is down for maintenance. Please try again shortly.", requestId);
    }

    public static async Task WriteAsync(HttpContext context, int statusCode, string code, string message, string? requestId)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return;
        }

        // Drops anything a failed forwarding attempt may have put on the response.
        response.Clear();
        response.StatusCode = statusCode;
        response.ContentType = "text/plain; charset=utf-8";
        response.Headers[HeaderName] = code;
        response.Headers.CacheControl = "no-store";
        if (requestId is not null)
        {
            response.Headers[RequestId.HeaderName] = requestId;
        }

        var body = Encoding.UTF8.GetBytes(message + "\n");
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            try
            {
                await response.Body.WriteAsync(body);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The client is gone; the status is already what the access log records.
            }
        }
    }
}
