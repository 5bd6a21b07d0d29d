using System.Diagnostics;
using System.Net;
using Yarp.ReverseProxy.Forwarder;

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
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
        }, disposeHandler: true);
    }

    public HttpMessageInvoker Invoker { get; }

    public void Dispose() => Invoker.Dispose();
}
