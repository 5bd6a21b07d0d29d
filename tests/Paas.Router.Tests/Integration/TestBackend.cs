using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// A tiny app instance on a loopback port chosen by the OS. It answers with its name and echoes the
/// headers the router is responsible for, so tests can see what an app really receives. A few paths
/// behave like awkward apps: /slow?ms=N waits, /ws echoes WebSocket messages, /body echoes the body length,
/// /events sends one server-sent event and the second only once <see cref="ReleaseEvents"/> is called,
/// /big?bytes=N sends N patterned bytes with a Content-Length, /status?code=N answers N with no body.
/// </summary>
internal sealed class TestBackend : IAsyncDisposable
{
    private static readonly string[] Echoed =
        ["Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Request-Id", "X-Request-Start", "X-Real-IP", "Forwarded", "Keep-Alive", "Proxy-Connection", "Connection"];

    private readonly WebApplication _app;
    private readonly TaskCompletionSource _events = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _hits;
    private int _eventsAbandoned;

    private TestBackend(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>host:port, as the controller would write it into the routes hash.</summary>
    public string Address { get; private set; } = "";

    /// <summary>Requests that reached this instance.</summary>
    public int Hits => Volatile.Read(ref _hits);

    /// <summary>/events requests that ended because the connection from the router closed before the second event.</summary>
    public int EventsAbandoned => Volatile.Read(ref _eventsAbandoned);

    /// <summary>Lets /events send its second event.</summary>
    public void ReleaseEvents() => _events.TrySetResult();

    /// <summary>The byte at <paramref name="index"/> of a /big body.</summary>
    public static byte BigByte(long index) => (byte)(index % 251);

    public static async Task<TestBackend> StartAsync(string body)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        TestBackend? self = null;
        app.UseWebSockets();
        app.Run(async context =>
        {
            Interlocked.Increment(ref self!._hits);
            foreach (var name in Echoed)
            {
                context.Response.Headers["X-Seen-" + name] = context.Request.Headers[name].ToString();
            }

            context.Response.Headers["X-Backend"] = body;
            var path = context.Request.Path.Value;
            if (path == "/ws" && context.WebSockets.IsWebSocketRequest)
            {
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                var buffer = new byte[4096];
                while (true)
                {
                    var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                        return;
                    }

                    await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, CancellationToken.None);
                }
            }

            if (path == "/slow")
            {
                var ms = int.Parse(context.Request.Query["ms"].ToString() is { Length: > 0 } v ? v : "1000");
                await Task.Delay(ms, context.RequestAborted);
            }

            if (path == "/events")
            {
                context.Response.ContentType = "text/event-stream";
                await context.Response.WriteAsync("data: one\n\n");
                await context.Response.Body.FlushAsync();
                try
                {
                    await self._events.Task.WaitAsync(TimeSpan.FromSeconds(15), context.RequestAborted);
                }
                catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
                {
                    Interlocked.Increment(ref self._eventsAbandoned);
                    return;
                }

                await context.Response.WriteAsync("data: two\n\n");
                return;
            }

            if (path == "/big")
            {
                var bytes = long.Parse(context.Request.Query["bytes"].ToString());
                context.Response.ContentType = "application/octet-stream";
                context.Response.ContentLength = bytes;
                var chunk = new byte[8192];
                for (long sent = 0; sent < bytes; sent += chunk.Length)
                {
                    var count = (int)Math.Min(chunk.Length, bytes - sent);
                    for (var i = 0; i < count; i++)
                    {
                        chunk[i] = BigByte(sent + i);
                    }

                    if (!HttpMethods.IsHead(context.Request.Method))
                    {
                        await context.Response.Body.WriteAsync(chunk.AsMemory(0, count));
                    }
                }

                return;
            }

            if (path == "/status")
            {
                context.Response.StatusCode = int.Parse(context.Request.Query["code"].ToString());
                return;
            }

            if (path == "/body")
            {
                long length = 0;
                var buffer = new byte[16384];
                int read;
                while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
                {
                    length += read;
                }

                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync($"{body}:{length}");
                return;
            }

            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync(body);
        });
        await app.StartAsync();

        var url = new Uri(app.Urls.Single());
        self = new TestBackend(app, $"127.0.0.1:{url.Port}");
        self.Address = $"127.0.0.1:{url.Port}";
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
