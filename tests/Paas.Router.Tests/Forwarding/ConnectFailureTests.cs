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
    private static async Task<Exception> FailAsync(string url, TimeSpan? connectTimeout = null)
    {
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(5),
        });

        return await Assert.ThrowsAnyAsync<Exception>(() =>
            invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, url), CancellationToken.None));
    }

    [Fact]
    public async Task Refused_connection_counts_as_before_request_sent()
    {
        var port = FreePort();

        var ex = await FailAsync($"http://127.0.0.1:{port}/");

        Assert.True(ConnectFailure.IsBeforeRequestSent(ForwarderError.Request, ex), ex.ToString());
    }

    [Fact]
    public async Task Connection_dropped_after_the_request_was_sent_does_not_count()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            // Read the whole request head, so the failure is unambiguously after the request was sent.
            var seen = new List<byte>();
            var buffer = new byte[4096];
            while (!System.Text.Encoding.ASCII.GetString(seen.ToArray()).Contains("\r\n\r\n"))
            {
                var read = await client.GetStream().ReadAsync(buffer);
                if (read == 0)
                {
                    break;
                }

                seen.AddRange(buffer.AsSpan(0, read).ToArray());
            }

            client.Client.Close();
        });

        var ex = await FailAsync($"http://127.0.0.1:{port}/");
        await server;

        Assert.False(ConnectFailure.IsBeforeRequestSent(ForwarderError.Request, ex), ex.ToString());
    }

    [Fact]
    public void Other_forwarder_errors_never_count()
    {
        var refused = new HttpRequestException(HttpRequestError.ConnectionError, "refused");

        Assert.False(ConnectFailure.IsBeforeRequestSent(ForwarderError.ResponseBodyDestination, refused));
        Assert.False(ConnectFailure.IsBeforeRequestSent(ForwarderError.RequestBodyDestination, refused));
        Assert.False(ConnectFailure.IsBeforeRequestSent(ForwarderError.None, refused));
    }

    [Fact]
    public void Activity_timeout_without_a_timeout_exception_does_not_count()
    {
        Assert.False(ConnectFailure.IsBeforeRequestSent(ForwarderError.RequestTimedOut, new TaskCanceledException("activity timeout")));
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
