using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// An instance that answers each request properly, keep-alive and all, then closes the connection without
/// saying so, as an app server does when its keep-alive timer fires between two requests (Node's 5 s).
/// A proxy that pools connections picks up the dead one for its next request. Counts connections.
/// </summary>
internal sealed class DroppingBackend : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _connections;

    public DroppingBackend()
    {
        _listener.Start();
        Address = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _loop = Task.Run(AcceptAsync);
    }

    public string Address { get; }

    public int Connections => Volatile.Read(ref _connections);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _ = Task.Run(() => AnswerOnceAsync(client));
        }
    }

    private static async Task AnswerOnceAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var head = new StringBuilder();
            var buffer = new byte[4096];
            while (!head.ToString().Contains("\r\n\r\n"))
            {
                var read = await stream.ReadAsync(buffer);
                if (read == 0)
                {
                    return;
                }

                head.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\ndropped"u8.ToArray());
            await stream.FlushAsync();
            // Give the response time to be read before the close, as a keep-alive timeout would.
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _loop;
    }
}
