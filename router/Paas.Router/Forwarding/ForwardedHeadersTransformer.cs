using Yarp.ReverseProxy.Forwarder;

namespace Paas.Router.Forwarding;

/// <summary>
/// Copies the client's request like YARP's plain transformer (which keeps the original Host, so apps
/// see the name they were called by) and then stamps the router's own X-Forwarded-* headers over
/// whatever the client sent: apps trust these, so a client must not be able to choose them.
/// </summary>
public sealed class ForwardedHeadersTransformer : HttpTransformer
{
    public static ForwardedHeadersTransformer Instance { get; } = new();

    private ForwardedHeadersTransformer()
    {
    }

    public override async ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

        var request = httpContext.Request;
        var headers = proxyRequest.Headers;

        Set(headers, "X-Forwarded-For", ForwardedHeaderValues.AppendFor(request.Headers["X-Forwarded-For"], httpContext.Connection.RemoteIpAddress));
        Set(headers, "X-Forwarded-Proto", request.Scheme);
        Set(headers, "X-Forwarded-Host", request.Host.HasValue ? request.Host.Value : null);
        Set(headers, "X-Forwarded-Port", ForwardedHeaderValues.Port(request.Host, request.Scheme));
    }

    private static void Set(System.Net.Http.Headers.HttpRequestHeaders headers, string name, string? value)
    {
        headers.Remove(name);
        if (!string.IsNullOrEmpty(value))
        {
            headers.TryAddWithoutValidation(name, value);
        }
    }
}
