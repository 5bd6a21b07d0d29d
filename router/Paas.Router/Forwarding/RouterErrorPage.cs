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
            await response.Body.WriteAsync(body);
        }
    }
}
