using System.Net;

namespace Paas.Router.Forwarding;

/// <summary>
/// The one HTTP client the router uses to reach app instances. Shared so that connections to an
/// instance are pooled across requests; a handler per request would pay a TCP handshake every time.
/// </summary>
public sealed class BackendInvoker : IDisposable
{
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    public BackendInvoker()
    {
        Invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            // The router is the last hop before the app: a system proxy, redirects, cookies or
            // decompression would all change what the client and the app see.
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = ConnectTimeout,
            // Instances come and go and ports get reused; recycling pooled connections bounds how long
            // one can stay pinned to a socket whose peer has changed.
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            // Shorter than the idle timeouts of common app servers (Node's 5 s keep-alive is the notable
            // exception, which SocketsHttpHandler's retry-on-stale-connection covers), so the router
            // rarely picks a connection the app is closing at that very moment.
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            // Unlimited connections per instance: under load each concurrent request gets its own keep-alive
            // connection, as with nginx's upstream keepalive; a cap would queue requests inside the router.
            MaxConnectionsPerServer = int.MaxValue,
            // Tracing headers are passed through as the client sent them; generating our own trace context
            // per request costs time on the hot path for nobody (no tracer is attached).
            ActivityHeadersPropagator = null,
            EnableMultipleHttp2Connections = true,
        }, disposeHandler: true);
    }

    public HttpMessageInvoker Invoker { get; }

    public void Dispose() => Invoker.Dispose();
}
