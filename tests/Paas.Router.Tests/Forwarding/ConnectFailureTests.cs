using System.Net;
using System.Net.Sockets;
using Paas.Router.Forwarding;
using Yarp.ReverseProxy.Forwarder;

namespace Paas.Router.Tests.Forwarding;

/// <summary>
/// Exercises the classification against real SocketsHttpHandler failures, because the retry's safety
/// rests on how the runtime reports them, not on how we imagine it does.
/// </summary>
public class ConnectFailureTests
{
    private static async Task<Exception> FailAsync(string url, TimeSpan? connectTimeout = null, CancellationToken cancel = default)
    {
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(5),
        });

        return await Assert.ThrowsAnyAsync<Exception>(() =>
            invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, url), cancel));
    }

    [Fact]
    public async Task RefusedConnectionCountsAsBeforeRequestSent()
    {
        var port = FreePort();

        var ex = await FailAsync($"http://127.0.0.1:{port}/");

        Assert.True(ConnectFailure.IsBeforeRequestSent(ForwarderError.Request, ex), ex.ToString());
    }

    [Fact]
    public async Task ConnectionDroppedAfterTheRequestWasSentDoesNotCount()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var accepted = 0;
        var server = Task.Run(async () =>
        {
            // Every connection gets the same treatment, in case the client opens another one to try again.
            while (!stop.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(stop.Token);
                Interlocked.Increment(ref accepted);
                await ReadRequestHeadAsync(client.GetStream(), stop.Token);
                client.Client.Close();
            }
        });

        var ex = await FailAsync($"http://127.0.0.1:{port}/", cancel: stop.Token);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server);

        // SocketsHttpHandler itself re-sends a bodyless request on a fresh connection when one closes
        // before any response byte (4 connections here); it still ends as a non-connect failure.
        Assert.True(accepted >= 1);
        Assert.False(ConnectFailure.IsBeforeRequestSent(ForwarderError.Request, ex), ex.ToString());
    }

    [Fact]
    public async Task ConnectTimeoutCountsAsBeforeRequestSent()
    {
        // A listener that never accepts, with its accept queue filled: further SYNs go unanswered,
        // which is what a frozen or firewalled instance looks like to the router.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        var fillers = new List<Socket>();
        try
        {
            var blocked = false;
            for (var i = 0; i < 16 && !blocked; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                var connect = filler.ConnectAsync(endpoint);
                blocked = await Task.WhenAny(connect, Task.Delay(300)) != connect;
            }

            Assert.True(blocked, "Could not fill the listener's accept queue; the kernel accepted every connection.");

            var ex = await FailAsync($"http://127.0.0.1:{endpoint.Port}/", connectTimeout: TimeSpan.FromMilliseconds(300));

            Assert.True(ConnectFailure.IsBeforeRequestSent(ForwarderError.RequestTimedOut, ex), ex.ToString());
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public void OtherForwarderErrorsNeverCount()
    {
        var refused = new HttpRequestException(HttpRequestError.ConnectionError, "refused");

        Assert.False(ConnectFailure.IsBeforeRequestSent(ForwarderError.ResponseBodyDestination, refused));
        Assert.False(ConnectFailure.IsBeforeRequestSent(ForwarderError.RequestBodyDestination, refused));
        Assert.False(ConnectFailure.IsBeforeRequestSent(ForwarderError.None, refused));
    }

    [Fact]
    public void ActivityTimeoutWithoutATimeoutExceptionDoesNotCount()
    {
        Assert.False(ConnectFailure.IsBeforeRequestSent(ForwarderError.RequestTimedOut, new TaskCanceledException("activity timeout")));
    }

    // Reads up to the blank line, so a failure afterwards is unambiguously after the request was sent.
    private static async Task ReadRequestHeadAsync(NetworkStream stream, CancellationToken cancel)
    {
        var seen = new List<byte>();
        var buffer = new byte[4096];
        while (!System.Text.Encoding.ASCII.GetString(seen.ToArray()).Contains("\r\n\r\n"))
        {
            var read = await stream.ReadAsync(buffer, cancel);
            if (read == 0)
            {
                return;
            }

            seen.AddRange(buffer.AsSpan(0, read).ToArray());
        }
    }

    private static int FreePort() => Paas.Testing.TestPorts.Next();
}
