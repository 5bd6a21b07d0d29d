using System.Net;
using System.Net.Sockets;
using System.Text;
using Paas.Testing;

namespace Paas.Cli.Tests;

/// <summary>
/// A stand-in for the platform's API that answers every request with one canned response, or never answers: what a
/// broken, older or hung controller looks like to the CLI.
/// </summary>
public sealed class FakeApi : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private readonly List<TcpClient> _held = [];

    /// <summary>Answers with <paramref name="status"/> and <paramref name="body"/>; null body: accept and never answer.</summary>
    public FakeApi(int status, string? body, string contentType = "application/json")
    {
        Port = TestPorts.Next();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
        _serving = ServeAsync(status, body, contentType);
    }

    public int Port { get; }

    /// <summary>The request lines received (e.g. "POST /v1/apps/hello/ps/stop?process=web.2"), in order.</summary>
    public List<string> Requests { get; } = [];

    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Connections accepted and left unanswered (a null body): a client is waiting on one.</summary>
    public int Held
    {
        get
        {
            lock (_held)
                return _held.Count;
        }
    }

    private async Task ServeAsync(int status, string? body, string contentType)
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                if (body is null)
                {
                    lock (_held)
                        _held.Add(client);
                    continue;
                }
                using (client)
                {
                    var stream = client.GetStream();
                    var request = new StringBuilder();
                    var buffer = new byte[4096];
                    while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        var read = await stream.ReadAsync(buffer, _stop.Token);
                        if (read == 0)
                            break;
                        request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                    }
                    var line = request.ToString().Split("\r\n")[0];
                    lock (Requests)
                        Requests.Add(line[..Math.Max(0, line.LastIndexOf(' '))]);
                    var payload = Encoding.UTF8.GetBytes(body);
                    var head = $"HTTP/1.1 {status} X\r\nContent-Type: {contentType}\r\nContent-Length: {payload.Length}\r\nConnection: close\r\n\r\n";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(head), _stop.Token);
                    await stream.WriteAsync(payload, _stop.Token);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _serving;
        lock (_held)
            _held.ForEach(c => c.Dispose());
    }
}
