using System.Net;
using Paas.Router.Table;
using Yarp.ReverseProxy.Forwarder;

namespace Paas.Router.Forwarding;

/// <summary>
/// Handles every request on the public port: host to app to endpoint, then hands the exchange to
/// YARP's forwarder. Reads only the in-memory snapshot, never Redis, so routing keeps working
/// (on the last known table) whatever state the registry is in.
/// </summary>
public sealed class ProxyHandler
{
    // Apps are plain HTTP/1.1 servers; pinning the version avoids a pointless HTTP/2 attempt per connection.
    private static readonly ForwarderRequestConfig RequestConfig = new()
    {
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
    };

    private readonly RouteTableStore _store;
    private readonly RoundRobinBalancer _balancer;
    private readonly IHttpForwarder _forwarder;
    private readonly BackendInvoker _backend;
    private readonly ILogger<ProxyHandler> _logger;

    public ProxyHandler(RouteTableStore store, RoundRobinBalancer balancer, IHttpForwarder forwarder, BackendInvoker backend, ILogger<ProxyHandler> logger)
    {
        _store = store;
        _balancer = balancer;
        _forwarder = forwarder;
        _backend = backend;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        // Rewritten in place so the value the app receives and the one on our error pages are the same.
        var requestId = RequestId.Resolve(context.Request.Headers[RequestId.HeaderName]);
        context.Request.Headers[RequestId.HeaderName] = requestId;

        var host = HostName.Normalize(context.Request.Host.Value);
        var lookup = _store.Current.Lookup(host);
        switch (lookup.Status)
        {
            case RouteLookupStatus.UnknownHost:
                await RouterErrorPage.WriteAsync(context, StatusCodes.Status404NotFound, RouterErrorPage.UnknownRoute,
                    $"No app is served at {(host.Length == 0 ? "(no host)" : host)}.", requestId);
                return;

            case RouteLookupStatus.NoEndpoints:
                await RouterErrorPage.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, RouterErrorPage.NoEndpoints,
                    $"{lookup.App} has no running instance right now.", requestId);
                return;
        }

        var app = lookup.App!;
        var endpoints = lookup.Endpoints;
        var index = _balancer.NextIndex(app, endpoints.Length);
        var endpoint = endpoints[index];
        var error = await ForwardAsync(context, endpoint);

        if (error != ForwarderError.None && endpoints.Length > 1 && CanRetry(context, error))
        {
            // Safe to retry: the failure was in opening the TCP connection, so nothing of this request
            // (not even the headers, let alone a body) reached any app, and the request body is still
            // unread. Whatever the method, the app cannot have acted on it. We move to a different
            // endpoint because the chosen one is most likely gone (the table lags instance death by a
            // health-check interval), and we try only once so a dead app cannot multiply load.
            _logger.LogInformation("Could not connect to {Instance} at {Address} for {App}; retrying on another instance",
                endpoint.Instance, endpoint.Address, app);
            ResetAfterFailedAttempt(context);
            endpoint = endpoints[(index + 1) % endpoints.Length];
            error = await ForwardAsync(context, endpoint);
        }

        if (error == ForwarderError.None)
        {
            return;
        }

        var failure = context.Features.Get<IForwarderErrorFeature>();
        if (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to show an error page to, and it is not the app's fault.
            _logger.LogDebug("Client aborted request for {App} ({Error})", app, error);
            return;
        }

        _logger.LogWarning("Forwarding to {Instance} at {Address} for {App} failed: {Error} {Reason}",
            endpoint.Instance, endpoint.Address, app, error, failure?.Exception?.Message);

        await RouterErrorPage.WriteAsync(context, StatusCodes.Status502BadGateway, RouterErrorPage.EndpointFailure,
            $"{app} failed to answer this request.", requestId);
    }

    private ValueTask<ForwarderError> ForwardAsync(HttpContext context, InstanceEndpoint endpoint) =>
        _forwarder.SendAsync(context, "http://" + endpoint.Address, _backend.Invoker, RequestConfig, ForwardedHeadersTransformer.Instance);

    private static bool CanRetry(HttpContext context, ForwarderError error)
    {
        if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return false;
        }

        var failure = context.Features.Get<IForwarderErrorFeature>();
        return ConnectFailure.IsBeforeRequestSent(error, failure?.Exception);
    }

    private static void ResetAfterFailedAttempt(HttpContext context)
    {
        // YARP marks a failed attempt by setting 502/504 and an error feature, and refuses to forward a
        // request whose response status is no longer 200; clear both so the second attempt starts clean.
        context.Response.Clear();
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Features.Set<IForwarderErrorFeature>(null);
    }
}
