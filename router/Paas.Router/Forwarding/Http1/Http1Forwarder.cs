using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Paas.Router.Table;
using Yarp.ReverseProxy.Forwarder;

namespace Paas.Router.Forwarding.Http1;

/// <summary>
/// The router's own HTTP/1.1 client for the requests that make up nearly all web traffic: GET, HEAD,
/// OPTIONS and DELETE without a body, no protocol upgrade. It writes the request head from Kestrel's parsed
/// request straight into a pooled connection's buffer and reads the app's response head and body straight
/// into Kestrel's response, without the request and response message objects and header collections a
/// general-purpose HTTP client builds per request. Everything else (bodies, WebSockets, HTTP/2 to the
/// app) goes through YARP. The same retry and error rules apply to both (<see cref="ProxyHandler"/>).
/// Why it exists beside YARP: with it switched off (<see cref="RouterSettings.LeanHttp1"/>) the Kestrel path spent
/// 1.18× the CPU per request for 0.95× the requests/s (tests/benchmarks/router/bench.sh, router-kestrel-yarp row,
/// 2026-12-03). Delete it when that row shows no cost.
/// </summary>
public sealed class Http1Forwarder
{
    private readonly BackendConnectionMonitor _monitor;

    public Http1Forwarder(BackendConnectionMonitor monitor) => _monitor = monitor;

    /// <summary>Whether this request is one the lean path handles; if so, <paramref name="target"/> is its request-target as sent.</summary>
    public static bool CanForward(HttpContext context, [NotNullWhen(true)] out string? target)
    {
        target = null;
        var request = context.Request;
        var method = request.Method;
        if (!(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsDelete(method))
            || !(HttpProtocol.IsHttp11(request.Protocol) || HttpProtocol.IsHttp10(request.Protocol))
            || context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != false
            || request.Headers.Upgrade.Count != 0)
        {
            return false;
        }

        // Origin form, printable ASCII: forwarded byte for byte. Anything else (absolute form, raw UTF-8) goes the general way.
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw) || raw[0] != '/' || raw.AsSpan().ContainsAnyExceptInRange((char)0x21, (char)0x7E))
        {
            return false;
        }

        target = raw;
        return true;
    }

    public async ValueTask<ForwardResult> SendAsync(HttpContext context, Destination destination, string target, ProxyRequest proxy, TimeSpan timeout)
    {
        var pool = destination.Connections;
        var timeoutMs = (long)timeout.TotalMilliseconds;
        var connection = pool.TryRent();
        while (true)
        {
            var reused = connection is not null;
            if (connection is null)
            {
                try
                {
                    connection = await pool.ConnectAsync(_monitor);
                }
                catch (Exception ex) when (ex is SocketException or TimeoutException)
                {
                    return new ForwardResult(ForwarderError.Request,
                        new HttpRequestException(HttpRequestError.ConnectionError, $"Cannot connect to {pool.Address}: {ex.Message}", ex));
                }
            }

            connection.Begin(timeoutMs, Environment.TickCount64);
            if (await ExchangeAsync(context, connection, target, proxy, reused) is { } result)
            {
                return result;
            }

            // The app had closed this pooled connection before our request reached it (it idled out on the
            // app's side): nothing was processed, so the request goes again, on a new connection.
            connection.Dispose();
            connection = null;
        }
    }

    /// <summary>One request and response on <paramref name="connection"/>; null when a reused connection turned out to be closed.</summary>
    private static async ValueTask<ForwardResult?> ExchangeAsync(HttpContext context, BackendConnection connection, string target, ProxyRequest proxy, bool reused)
    {
        var request = context.Request;
        var head = connection.Request;
        head.Write(request.Method, target, request.Headers, request.Scheme, request.Host, context.Connection.RemoteIpAddress,
            ProxyRequest.RequestStartUnixMs(proxy.Started));
        try
        {
            await connection.SendAsync(head.Written);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return reused && !connection.TimedOut ? null : Ended(connection, ex);
        }

        var response = connection.Response;
        while (true)
        {
            var parsed = response.TryParse(connection.Unread, out var length);
            if (parsed == ResponseHead.Result.Complete)
            {
                connection.Start += length;
                if (response.StatusCode >= 200)
                {
                    break;
                }

                if (response.StatusCode == StatusCodes.Status101SwitchingProtocols)
                {
                    return Invalid(connection, "switched protocols on a request that did not ask to");
                }

                // An interim response (103 Early Hints): the real one follows.
                continue;
            }

            if (parsed == ResponseHead.Result.Invalid)
            {
                return Invalid(connection, "sent a malformed response head");
            }

            int received;
            try
            {
                received = await connection.ReceiveAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                if (connection.TimedOut)
                {
                    connection.Dispose();
                    return new ForwardResult(ForwarderError.RequestTimedOut, new TimeoutException($"{connection.Pool.Address} sent no response in time."));
                }

                return reused && !connection.HasReceived ? null : Ended(connection, ex);
            }

            if (received == 0)
            {
                return reused && !connection.HasReceived ? null : Ended(connection, null);
            }
        }

        proxy.UpstreamHeaders = Stopwatch.GetTimestamp();
        var status = response.StatusCode;
        var clientResponse = context.Response;
        try
        {
            clientResponse.StatusCode = status;
            var headers = clientResponse.Headers;
            var appHeaders = response.Headers;
            for (var i = 0; i < appHeaders.Count; i++)
            {
                // Not IHeaderDictionary.Append, which drops empty values; an empty header can mean something to the client.
                var (name, value) = appHeaders[i];
                var existing = headers[name];
                headers[name] = existing.Count == 0 ? value : StringValues.Concat(existing, value);
            }

            if (proxy.StickyCookie is not null)
            {
                headers.Append(HeaderNames.SetCookie, proxy.StickyCookie);
            }

            if (response.ContentLength >= 0 && status is not (StatusCodes.Status204NoContent or StatusCodes.Status304NotModified))
            {
                clientResponse.ContentLength = response.ContentLength;
            }
        }
        catch (InvalidOperationException)
        {
            // A header value Kestrel will not write (a control character): not something to pass to a client.
            clientResponse.Headers.Clear();
            return Invalid(connection, "sent a header value that cannot be forwarded");
        }

        var bodyless = HttpMethods.IsHead(request.Method) || status is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified;
        var framing = bodyless ? Framing.None
            : response.Chunked ? Framing.Chunked
            : !response.UntilClose && response.ContentLength >= 0 ? Framing.Length
            : Framing.UntilClose;

        var outcome = await CopyBodyAsync(context, connection, framing, response.ContentLength, proxy);
        if (outcome.Error == ForwarderError.None && response.KeepAlive && framing != Framing.UntilClose && connection.Start == connection.End)
        {
            connection.Pool.Return(connection);
        }
        else
        {
            connection.Dispose();
        }

        return outcome;
    }

    private enum Framing { None, Length, Chunked, UntilClose }

    private static async ValueTask<ForwardResult> CopyBodyAsync(HttpContext context, BackendConnection connection, Framing framing, long length, ProxyRequest proxy)
    {
        // Through the response stream rather than BodyWriter: each write goes out at once (server-sent
        // events depend on it) and Kestrel writes the head with the first one. (Data written to BodyWriter
        // before the head went out was partly lost once a flush followed; see the large-body test.)
        var body = context.Response.Body;
        var decoder = new ChunkedDecoder();
        var remaining = framing == Framing.Length ? length : long.MaxValue;
        long written = 0;
        CancellationTokenRegistration clientGone = default;
        try
        {
            while (framing != Framing.None)
            {
                // Hand over what has arrived.
                if (framing == Framing.Chunked)
                {
                    while (connection.Start < connection.End && !decoder.IsComplete)
                    {
                        if (!decoder.Decode(connection.Unread, out var consumed, out var offset, out var count))
                        {
                            return BodyFailed(context, new HttpIOException(HttpRequestError.InvalidResponse, "The app sent malformed chunked framing."));
                        }

                        var start = connection.Start;
                        connection.Start += consumed;
                        if (count > 0)
                        {
                            await body.WriteAsync(connection.Buffer.AsMemory(start + offset, count));
                            written += count;
                        }
                    }

                    if (decoder.IsComplete)
                    {
                        break;
                    }
                }
                else
                {
                    var available = (int)Math.Min(remaining, connection.End - connection.Start);
                    if (available > 0)
                    {
                        var start = connection.Start;
                        connection.Start += available;
                        remaining -= available;
                        written += available;
                        await body.WriteAsync(connection.Buffer.AsMemory(start, available));
                    }

                    if (remaining == 0)
                    {
                        break;
                    }
                }

                connection.Touch();
                if (context.RequestAborted.IsCancellationRequested)
                {
                    return new ForwardResult(ForwarderError.ResponseBodyClient, null);
                }

                // More is coming: make sure a client that leaves ends the wait for it.
                if (clientGone == default)
                {
                    clientGone = context.RequestAborted.UnsafeRegister(static state => ((BackendConnection)state!).Abort(), connection);
                }

                int received;
                try
                {
                    received = await connection.ReceiveAsync();
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    if (context.RequestAborted.IsCancellationRequested)
                    {
                        return new ForwardResult(ForwarderError.ResponseBodyClient, null);
                    }

                    return BodyFailed(context, connection.TimedOut
                        ? new TimeoutException("The app stopped sending its response body.")
                        : new HttpIOException(HttpRequestError.ResponseEnded, "The app closed the connection mid-body.", ex));
                }

                if (received == 0)
                {
                    if (framing == Framing.UntilClose)
                    {
                        break;
                    }

                    return BodyFailed(context, new HttpIOException(HttpRequestError.ResponseEnded, "The app closed the connection before the end of the body."));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Writing to the client failed: it went away.
            return new ForwardResult(ForwarderError.ResponseBodyClient, ex);
        }
        finally
        {
            // Before the connection can go back to the pool, where a late abort must not reach it.
            clientGone.Dispose();
            proxy.ResponseBytes = written;
        }

        return ForwardResult.Success;
    }

    /// <summary>
    /// The response is cut short after its head was given to the client: abort the client's connection, as
    /// YARP does, so the client sees a failure rather than a response that merely looks complete.
    /// </summary>
    private static ForwardResult BodyFailed(HttpContext context, Exception exception)
    {
        context.Abort();
        return new ForwardResult(ForwarderError.ResponseBodyDestination, exception);
    }

    private static ForwardResult Ended(BackendConnection connection, Exception? inner)
    {
        connection.Dispose();
        return new ForwardResult(ForwarderError.Request,
            new HttpIOException(HttpRequestError.ResponseEnded, $"{connection.Pool.Address} closed the connection before responding.", inner));
    }

    private static ForwardResult Invalid(BackendConnection connection, string what)
    {
        connection.Dispose();
        return new ForwardResult(ForwarderError.Request,
            new HttpRequestException(HttpRequestError.InvalidResponse, $"{connection.Pool.Address} {what}."));
    }
}
