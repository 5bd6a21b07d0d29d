using System.Net;
using System.Net.Sockets;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// An instance that accepts connections, reads what arrives (headers and any body) and closes without
/// answering: the "backend closed before responding" case of the retry rule. Counts what it received.
/// </summary>
internal sealed class ClosingBackend : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _requests;
    private long _bytes;

    public ClosingBackend()
    {
        _listener.Start();
        Address = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _loop = Task.Run(AcceptAsync);
    }

    public string Address { get; }

    public int Requests => Volatile.Read(ref _requests);

    public long Bytes => Interlocked.Read(ref _bytes);

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

            _ = Task.Run(async () =>
            {
                using (client)
                {
                    var stream = client.GetStream();
                    var buffer = new byte[65536];
                    using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
                    try
                    {
                        var read = await stream.ReadAsync(buffer, wait.Token);
                        if (read > 0)
                        {
                            Interlocked.Increment(ref _requests);
                        }

                        while (read > 0)
                        {
                            Interlocked.Add(ref _bytes, read);
                            read = await stream.ReadAsync(buffer, wait.Token);
                        }
                    }
                    catch (Exception)
                    {
                        // Read for a moment only; then hang up without a response.
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
