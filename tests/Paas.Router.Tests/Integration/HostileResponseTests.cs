using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// The other direction of <see cref="HostileRequestTests"/>: one table of malformed responses from an app,
/// fetched through both front ends. A response head that different parsers could read differently (a bare CR
/// that splits a line, a control byte, two lengths) is not passed on: the client gets the router's 502, from
/// either front end alike, and never the app's bytes.
/// </summary>
public sealed class HostileResponseTests : IClassFixture<HostileResponseTests.Routers>
{
    private readonly Routers _routers;

    public HostileResponseTests(Routers routers) => _routers = routers;

    /// <summary>Each app answer by name; the router's client asks for /NAME.</summary>
    private static readonly Dictionary<string, (string Response, string Expected)> Table = new()
    {
        ["good"] = ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Good: yes\r\n\r\nok", "200"),
        ["bare-cr-in-name"] = ("HTTP/1.1 200 OK\r\nX-A\rSet-Cookie: stolen=1\r\nContent-Length: 2\r\n\r\nok", "502"),
        ["bare-cr-in-value"] = ("HTTP/1.1 200 OK\r\nX-A: a\rSet-Cookie: stolen=1\r\nContent-Length: 2\r\n\r\nok", "502"),
        ["nul-in-value"] = ("HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 2\r\n\r\nok", "502"),
        ["space-before-colon"] = ("HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 2\r\n\r\nok", "502"),
        ["obs-fold"] = ("HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 2\r\n\r\nok", "502"),
        ["two-lengths"] = ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!", "502"),
        ["bad-status-line"] = ("HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok", "502"),
    };

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var name in Table.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task BothFrontEndsPassOnOnlyAResponseHeadEveryParserReadsAlike(string name)
    {
        var eventLoop = await FetchAsync(_routers.EventLoop.PublicPort, name);
        var kestrel = await FetchAsync(_routers.Kestrel.PublicPort, name);

        Assert.True(eventLoop.Status == kestrel.Status, $"{name}: event loop answered {eventLoop.Status}, Kestrel {kestrel.Status}");
        Assert.Equal(Table[name].Expected, eventLoop.Status);
        Assert.DoesNotContain("stolen", eventLoop.Text);
        Assert.DoesNotContain("stolen", kestrel.Text);
    }

    private async Task<(string Status, string Text)> FetchAsync(int port, string name)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /{name} HTTP/1.1\r\nHost: {_routers.Host}\r\nConnection: close\r\n\r\n"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var text = await new StreamReader(stream, Encoding.Latin1).ReadToEndAsync(timeout.Token);
        var status = Regex.Match(text, "^HTTP/1\\.1 (\\d{3}) ");
        return (status.Success ? status.Groups[1].Value : "none", text);
    }

    /// <summary>An app that answers each request with the table's bytes for its path, then closes.</summary>
    private sealed class CannedBackend : RawTcpBackend
    {
        protected override async Task ServeAsync(NetworkStream stream)
        {
            var head = new StringBuilder();
            var buffer = new byte[4096];
            while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer);
                if (read == 0)
                {
                    return;
                }

                head.Append(Encoding.Latin1.GetString(buffer, 0, read));
            }

            var path = head.ToString().Split(' ')[1].TrimStart('/');
            var response = Table.TryGetValue(path, out var row) ? row.Response : "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
            await stream.WriteAsync(Encoding.Latin1.GetBytes(response));
        }
    }

    /// <summary>Both front ends in front of the canned app.</summary>
    public sealed class Routers : FrontEndPair
    {
        protected override Task<(string Address, IAsyncDisposable Stop)> StartAppAsync()
        {
            var backend = new CannedBackend();
            return Task.FromResult<(string, IAsyncDisposable)>((backend.Address, backend));
        }
    }
}
