using System.Text;
using Paas.Router.Observability;
using Paas.Router.Sources;
using Paas.Router.Table;

namespace Paas.Router.Admin;

/// <summary>
/// The loopback-only admin port: liveness for supervisors, the route table for the controller, and
/// Prometheus metrics.
/// Kept off the public port because the table lists every app's internal addresses.
/// </summary>
public sealed class AdminHandler
{
    private static readonly byte[] Ok = Encoding.UTF8.GetBytes("ok");
    private static readonly byte[] NotFound = Encoding.UTF8.GetBytes("not found\n");

    private readonly RouteTableStore _store;
    private readonly RouterMetrics _metrics;
    private readonly RedisRouteSource _source;

    public AdminHandler(RouteTableStore store, RouterMetrics metrics, RedisRouteSource source)
    {
        _store = store;
        _metrics = metrics;
        _source = source;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var readOnly = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);

        if (readOnly && request.Path == "/healthz")
        {
            return WriteAsync(context, StatusCodes.Status200OK, "text/plain; charset=utf-8", Ok);
        }

        if (readOnly && request.Path == "/routes")
        {
            return WriteAsync(context, StatusCodes.Status200OK, "application/json; charset=utf-8", RoutesJson.Render(_store.Current));
        }

        if (readOnly && request.Path == "/metrics")
        {
            var text = _metrics.Render(_store.Current, _source.SinceLastSync);
            return WriteAsync(context, StatusCodes.Status200OK, "text/plain; version=0.0.4; charset=utf-8", Encoding.UTF8.GetBytes(text));
        }

        return WriteAsync(context, StatusCodes.Status404NotFound, "text/plain; charset=utf-8", NotFound);
    }

    private static Task WriteAsync(HttpContext context, int status, string contentType, byte[] body)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.Headers.CacheControl = "no-store";
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body).AsTask();
    }
}
