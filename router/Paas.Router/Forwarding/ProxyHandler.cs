using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Http.Features;
using Paas.Router.Balancing;
using Paas.Router.Forwarding.Http1;
using Paas.Router.Health;
using Paas.Router.Observability;
using Paas.Router.Table;
using Yarp.ReverseProxy.Forwarder;

namespace Paas.Router.Forwarding;

/// <summary>
/// Handles every request on the public and TLS ports: host to app to endpoint, then hands the exchange
/// to the lean HTTP/1.1 forwarder (plain bodiless requests) or YARP's (everything else), retrying on
/// another instance when that is provably safe. Reads only the in-memory snapshot, never Redis, so
/// routing keeps working (on the last known table) whatever state Redis is in.
/// </summary>
public sealed class ProxyHandler
{
    private readonly RouteTableStore _store;
    private readonly IHttpForwarder _forwarder;
    private readonly BackendInvoker _backend;
    private readonly Http1Forwarder _http1;
    private readonly PassiveHealth _health;
    private readonly RouterMetrics _metrics;
    private readonly AccessLog _accessLog;
    private readonly RouterSettings _settings;
    private readonly ILogger<ProxyHandler> _logger;
    private readonly ForwarderRequestConfig _defaultConfig;
    private readonly ConcurrentDictionary<TimeSpan, ForwarderRequestConfig> _configs = new();
    private readonly long _firstTableDeadline;
    private readonly Paas.Router.Tls.PublishedCertificates _certificates;

    public ProxyHandler(RouteTableStore store, IHttpForwarder forwarder, BackendInvoker backend, Http1Forwarder http1,
        PassiveHealth health, RouterMetrics metrics, AccessLog accessLog, RouterSettings settings, ILogger<ProxyHandler> logger,
        Paas.Router.Tls.PublishedCertificates certificates)
    {
        _certificates = certificates;
        _store = store;
        _forwarder = forwarder;
        _backend = backend;
        _http1 = http1;
        _health = health;
        _metrics = metrics;
        _accessLog = accessLog;
        _settings = settings;
        _logger = logger;
        _defaultConfig = MakeConfig(settings.BackendTimeout);
        _firstTableDeadline = Stopwatch.GetTimestamp() + (long)(settings.FirstTableWait.TotalSeconds * Stopwatch.Frequency);
    }

    public async Task InvokeAsync(HttpContext context)
    {
        if (!_store.FirstTable.IsCompleted)
            await WaitForFirstTableAsync();
        var started = Stopwatch.GetTimestamp();
        // Rewritten in place so the value the app receives and the one on our error pages are the same.
        var requestId = RequestId.Resolve(context.Request.Headers[RequestId.HeaderName]);
        context.Request.Headers[RequestId.HeaderName] = requestId;

        var proxy = new ProxyRequest(requestId, started);
        try
        {
            await HandleAsync(context, proxy);
        }
        finally
        {
            Complete(context, proxy);
        }
    }

    private async Task HandleAsync(HttpContext context, ProxyRequest proxy)
    {
        var request = context.Request;
        if (RequestRules.Refusal(request) is { } refusal)
        {
            // Nothing of a refused request is read on: the connection cannot be trusted to be in step with the client.
            context.Response.Headers.Connection = "close";
            await FailAsync(context, proxy, StatusCodes.Status400BadRequest, RouterErrorPage.BadRequest, refusal);
            return;
        }

        if (HeaderBytes(request) > _settings.MaxHeaderBytes)
        {
            await FailAsync(context, proxy, StatusCodes.Status431RequestHeaderFieldsTooLarge, RouterErrorPage.HeadersTooLarge,
                $"Request headers are larger than {_settings.MaxHeaderBytes} bytes.");
            return;
        }

        // HTTP-01: the ACME server fetches the platform's challenge over plain HTTP on any custom domain, app
        // running or not. A token the platform did not issue goes on to the app, which may answer its own.
        if (HttpMethods.IsGet(request.Method) && request.Path.Value is { } path
            && path.StartsWith(Paas.Core.Tls.TlsKeys.ChallengePath, StringComparison.Ordinal)
            && await _certificates.ChallengeAsync(path[Paas.Core.Tls.TlsKeys.ChallengePath.Length..]) is { } keyAuthorization)
        {
            context.Response.ContentType = "application/octet-stream";
            await context.Response.WriteAsync(keyAuthorization);
            return;
        }

        var lookup = _store.Current.Lookup(request.Host.Value.AsSpan());
        proxy.App = lookup.App;
        if (lookup.App is { } redirecting && !request.IsHttps && _settings.TlsPort != 0 && context.Connection.LocalPort != _settings.H2cPort
            && request.Path.Value?.StartsWith(Paas.Core.Tls.TlsKeys.ChallengePath, StringComparison.Ordinal) != true
            && _store.Current.Options.GetValueOrDefault(redirecting)?.HttpsRedirect == true)
        {
            // 308, not 301: the method and body are kept. Not on the h2c port, where a TLS-terminating balancer
            // in front has done HTTPS already, and never on the ACME challenge path (an app may answer its own there).
            var port = _settings.TlsPort == 443 ? "" : ":" + _settings.TlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
            context.Response.Headers.Location = $"https://{HostName.Normalize(request.Host.Value)}{port}{request.PathBase}{request.Path}{request.QueryString}";
            return;
        }
        switch (lookup.Status)
        {
            case RouteLookupStatus.UnknownHost:
                var host = HostName.Normalize(request.Host.Value);
                await FailAsync(context, proxy, StatusCodes.Status404NotFound, RouterErrorPage.UnknownRoute,
                    $"No app is served at {(host.Length == 0 ? "(no host)" : host)}.");
                return;

            case RouteLookupStatus.NoEndpoints when _store.Current.Options.GetValueOrDefault(lookup.App!)?.Maintenance == true:
            case RouteLookupStatus.Found when lookup.Pool!.InMaintenance:
                // Before anything else about the app: in maintenance, with or without running instances, the page is the answer.
                proxy.Error = RouterErrorPage.Maintenance;
                await RouterErrorPage.WriteMaintenanceAsync(context, lookup.App!, proxy.RequestId);
                return;

            case RouteLookupStatus.NoEndpoints:
                await FailAsync(context, proxy, StatusCodes.Status503ServiceUnavailable, RouterErrorPage.NoEndpoints,
                    $"{lookup.App} has no running instance right now.");
                return;
        }

        var pool = lookup.Pool!;
        proxy.Pool = pool;
        var options = pool.Options;

        if ((options.MaxBodyBytes ?? _settings.MaxBodyBytes) is { } maxBody)
        {
            if (request.ContentLength > maxBody)
            {
                await FailAsync(context, proxy, StatusCodes.Status413PayloadTooLarge, RouterErrorPage.BodyTooLarge,
                    $"{pool.App} accepts request bodies up to {maxBody} bytes.");
                return;
            }

            // A chunked body has no length up front; Kestrel stops reading it at the limit.
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = maxBody;
            }
        }

        var policy = IBalancingPolicy.For(options.Balancing);
        var timeout = options.Timeout ?? _settings.BackendTimeout;
        var lean = _settings.LeanHttp1 & Http1Forwarder.CanForward(context, out var target);
        var now = PassiveHealth.Now;

        Destination? endpoint = null;
        if (options.StickyCookie is { } cookie)
        {
            endpoint = StickySession.Find(pool, request.Cookies[cookie], now);
        }

        Destination? tried1 = null, tried2 = null;
        var result = ForwardResult.Success;
        while (true)
        {
            endpoint ??= policy.Pick(pool, tried1, tried2, now);
            if (endpoint is null)
            {
                break;
            }

            proxy.Destination = endpoint;
            proxy.Attempts++;
            proxy.StickyCookie = options.StickyCookie is { } name && request.Cookies[name] != endpoint.Instance
                ? StickySession.SetCookieValue(name, endpoint.Instance, request.IsHttps)
                : null;
            proxy.AttemptStarted = Stopwatch.GetTimestamp();

            endpoint.State.Begin();
            try
            {
                result = lean
                    ? await _http1.SendAsync(context, endpoint, target!, proxy, timeout)
                    : await SendWithYarpAsync(context, endpoint, proxy, timeout);
            }
            finally
            {
                endpoint.State.End();
            }

            if (result.Error == ForwarderError.None)
            {
                PassiveHealth.ReportSuccess(endpoint.State, now);
                return;
            }

            if (ConnectFailure.IsBeforeRequestSent(result.Error, result.Exception))
            {
                _health.ReportConnectFailure(endpoint);
            }

            if (proxy.Attempts >= RetryRule.MaxAttempts || !RetryRule.IsSafe(context, result.Error, result.Exception))
            {
                break;
            }

            // See RetryRule.IsSafe for why this attempt may be repeated; it always goes to a different instance.
            _metrics.Retries.Increment();
            ResetAfterFailedAttempt(context);
            if (proxy.Attempts == 1)
            {
                tried1 = endpoint;
            }
            else
            {
                tried2 = endpoint;
            }

            endpoint = null;
            now = PassiveHealth.Now;
        }

        if (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to show an error page to, and it is not the app's fault.
            proxy.Error = RouterErrorPage.ClientClosed;
            return;
        }

        var (error, exception) = result;
        if (error == ForwarderError.RequestTimedOut && !ConnectFailure.IsBeforeRequestSent(error, exception))
        {
            await FailAsync(context, proxy, StatusCodes.Status504GatewayTimeout, RouterErrorPage.Timeout,
                $"{pool.App} did not answer in time.");
            return;
        }

        if (IsBodyTooLarge(exception))
        {
            await FailAsync(context, proxy, StatusCodes.Status413PayloadTooLarge, RouterErrorPage.BodyTooLarge,
                $"{pool.App} accepts request bodies up to {options.MaxBodyBytes ?? _settings.MaxBodyBytes} bytes.");
            return;
        }

        if (error is ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient or ForwarderError.UpgradeResponseClient or ForwarderError.UpgradeRequestClient)
        {
            proxy.Error = RouterErrorPage.ClientClosed;
            return;
        }

        _logger.LogWarning("Forwarding to {Instance} at {Address} for {App} failed after {Attempts} attempt(s): {Error} {Reason}",
            proxy.Destination?.Instance, proxy.Destination?.Address, pool.App, proxy.Attempts, error, exception?.Message);
        await FailAsync(context, proxy, StatusCodes.Status502BadGateway, RouterErrorPage.EndpointFailure,
            $"{pool.App} failed to answer this request.");
    }

    private async ValueTask<ForwardResult> SendWithYarpAsync(HttpContext context, Destination endpoint, ProxyRequest proxy, TimeSpan timeout)
    {
        var config = timeout == _settings.BackendTimeout ? _defaultConfig : _configs.GetOrAdd(timeout, MakeConfig);
        var error = await _forwarder.SendAsync(context, endpoint.DestinationPrefix, _backend.Invoker, config, proxy);
        return error == ForwarderError.None
            ? ForwardResult.Success
            : new ForwardResult(error, context.Features.Get<IForwarderErrorFeature>()?.Exception);
    }

    private static Task FailAsync(HttpContext context, ProxyRequest proxy, int status, string code, string message)
    {
        proxy.Error = code;
        return RouterErrorPage.WriteAsync(context, status, code, message, proxy.RequestId);
    }

    private void Complete(HttpContext context, ProxyRequest proxy)
    {
        var end = Stopwatch.GetTimestamp();
        var duration = Stopwatch.GetElapsedTime(proxy.Started, end);
        var response = context.Response;
        var status = proxy.Error == RouterErrorPage.ClientClosed && !response.HasStarted ? 499 : response.StatusCode;
        var bytes = proxy.Counter?.Written ?? proxy.ResponseBytes ?? response.ContentLength ?? 0;
        var upstream = proxy.UpstreamHeaders != 0 ? Stopwatch.GetElapsedTime(proxy.AttemptStarted, proxy.UpstreamHeaders).TotalMilliseconds : -1;

        _metrics.Record(proxy.Pool, proxy.App, status, duration);
        var request = context.Request;
        _accessLog.Write(new AccessLogEntry(
            DateTime.UtcNow, request.Host.Value, request.Method, request.Path.Value, status, bytes, duration.TotalMilliseconds,
            upstream, proxy.App, proxy.Destination?.Instance, proxy.Attempts, proxy.RequestId, proxy.Error));
    }

    /// <summary>
    /// A request that arrives before the first table is loaded waits for it rather than getting 404
    /// unknown_route, but no longer than <see cref="RouterSettings.FirstTableWait"/> after start-up.
    /// The event-loop front end does the same by not accepting yet (Program.cs).
    /// </summary>
    private async Task WaitForFirstTableAsync()
    {
        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _firstTableDeadline);
        if (remaining <= TimeSpan.Zero)
            return;
        try
        {
            await _store.FirstTable.WaitAsync(remaining);
        }
        catch (TimeoutException)
        {
        }
    }

    private static ForwarderRequestConfig MakeConfig(TimeSpan timeout) => new()
    {
        // Apps are plain HTTP/1.1 servers; pinning the version avoids a pointless HTTP/2 attempt per connection.
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        // Idle time: reset whenever bytes move, so a long download or a chatty event stream is never cut off.
        ActivityTimeout = timeout,
    };

    private static long HeaderBytes(HttpRequest request)
    {
        long total = 0;
        foreach (var header in request.Headers)
        {
            total += header.Key.Length + 4;
            foreach (var value in header.Value)
            {
                total += value?.Length ?? 0;
            }
        }

        return total;
    }

    private static bool IsBodyTooLarge(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                return true;
            }
        }

        return false;
    }

    private static void ResetAfterFailedAttempt(HttpContext context)
    {
        // YARP marks a failed attempt by setting 502/504 and an error feature, and refuses to forward a
        // request whose response status is no longer 200; clear both so the next attempt starts clean.
        context.Response.Clear();
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Features.Set<IForwarderErrorFeature>(null);
    }
}
