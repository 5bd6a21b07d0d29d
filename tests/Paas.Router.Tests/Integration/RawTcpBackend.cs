using System.Net;
using System.Net.Sockets;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// An instance written at the TCP level, for behaviour no real app server would show on request: it
/// accepts on a loopback port chosen by the OS and hands each connection to <see cref="ServeAsync"/>.
/// </summary>
internal abstract class RawTcpBackend : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _connections;

    protected RawTcpBackend()
    {
        _listener.Start();
        Address = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _loop = Task.Run(AcceptAsync);
    }

    /// <summary>host:port, as the controller would write it into the routes hash.</summary>
    public string Address { get; }

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Serves one connection; the client is disposed afterwards.</summary>
    protected abstract Task ServeAsync(NetworkStream stream);

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
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        await ServeAsync(client.GetStream());
                    }
                    catch (Exception)
                    {
                        // The router hung up first; nothing to serve.
                    }
                }
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _loop;
    }
}
