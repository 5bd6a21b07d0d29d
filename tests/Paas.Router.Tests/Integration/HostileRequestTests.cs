using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// One table of hostile and malformed requests, sent byte for byte to both front ends of the public port: the
/// router's own event loop and Kestrel alone. Each must get the same answer from both (the same status codes,
/// in the same order, and the same number of requests reaching the app), and the answer the table expects. Two
/// parsers that disagree about where a request ends are how requests are smuggled; this is where they are
/// compared.
/// </summary>
public sealed class HostileRequestTests : IClassFixture<HostileRequestTests.Routers>
{
    private readonly Routers _routers;

    public HostileRequestTests(Routers routers) => _routers = routers;

    /// <summary>A request table row: the bytes sent (HOST replaced by the app's host name) and the expected answer.</summary>
    public sealed record Case(string Name, string Request, string Expected, int? AppRequests = null)
    {
        public override string ToString() => Name;
    }

    // Framing is Kestrel's to judge on both front ends (the event loop takes no request with a body): with
    // Content-Length and Transfer-Encoding together it reads the chunks and drops Content-Length, and it reads
    // "+3" as 3; the router then writes the app a fresh head with one framing, so the smuggled GET below never
    // reaches the app as a request of its own (one request arrives, not two).
    public static readonly Case[] Table =
    [
        new("plain GET", "GET /status?code=204 HTTP/1.1\r\nHost: HOST\r\nConnection: close\r\n\r\n", "204", 1),
        new("CL and TE together", "POST /body HTTP/1.1\r\nHost: HOST\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\nGET /status?code=202 HTTP/1.1\r\nHost: HOST\r\n\r\n", "200", 1),
        new("duplicate Content-Length", "POST /body HTTP/1.1\r\nHost: HOST\r\nContent-Length: 3\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd", "400", 0),
        new("signed Content-Length", "POST /body HTTP/1.1\r\nHost: HOST\r\nContent-Length: +3\r\nConnection: close\r\n\r\nabc", "200", 1),
        new("Content-Length on a GET, with a smuggled request in its body", "GET /status?code=200 HTTP/1.1\r\nHost: HOST\r\nContent-Length: 48\r\nConnection: close\r\n\r\nGET /status?code=202 HTTP/1.1\r\nHost: HOST\r\n\r\n", "200", 1),
        new("obs-fold", "GET /status?code=200 HTTP/1.1\r\nHost: HOST\r\nX-Folded: a\r\n b\r\nConnection: close\r\n\r\n", "400", 0),
        new("bare LF line ends", "GET /status?code=200 HTTP/1.1\nHost: HOST\nConnection: close\n\n", "200", 1),
        new("bare CR inside a header value", "GET /status?code=200 HTTP/1.1\r\nHost: HOST\r\nX-A: a\rb\r\nConnection: close\r\n\r\n", "400", 0),
        new("bare CR inside a header name", "GET /status?code=200 HTTP/1.1\r\nHost: HOST\r\nX-A\rB: 1\r\nConnection: close\r\n\r\n", "400", 0),
        new("NUL in a header value", "GET /status?code=200 HTTP/1.1\r\nHost: HOST\r\nX-A: a\0b\r\nConnection: close\r\n\r\n", "400", 0),
        new("space before the colon", "GET /status?code=200 HTTP/1.1\r\nHost: HOST\r\nX-A : 1\r\nConnection: close\r\n\r\n", "400", 0),
        new("absolute-form target naming the app", "GET http://HOST/status?code=200 HTTP/1.1\r\nHost: HOST\r\nConnection: close\r\n\r\n", "200", 1),
        new("duplicate Host", "GET /status?code=200 HTTP/1.1\r\nHost: HOST\r\nHost: other.localhost\r\nConnection: close\r\n\r\n", "400", 0),
        new("no Host", "GET /status?code=200 HTTP/1.1\r\nConnection: close\r\n\r\n", "400", 0),
        new("HTTP/1.0 without Host (allowed in 1.0: no app is named)", "GET /status?code=200 HTTP/1.0\r\n\r\n", "404", 0),
        new("head larger than the limit (40 KiB of headers)", "GET /status?code=200 HTTP/1.1\r\nHost: HOST\r\n" + BigHeaders(40 * 1024) + "Connection: close\r\n\r\n", "431", 0),
        new("head just over the limit (33 KiB of headers)", "GET /status?code=200 HTTP/1.1\r\nHost: HOST\r\n" + BigHeaders(33 * 1024) + "Connection: close\r\n\r\n", "431", 0),
        new("head under the limit (30 KiB of headers)", "GET /status?code=200 HTTP/1.1\r\nHost: HOST\r\n" + BigHeaders(30 * 1024) + "Connection: close\r\n\r\n", "200", 1),
        new("pipelined request after a malformed one", "GET /status?code=200 HTTP/1.1\r\nHost: HOST\r\nX-A: a\0b\r\n\r\nGET /status?code=202 HTTP/1.1\r\nHost: HOST\r\n\r\n", "400", 0),
        new("pipelined request after a good one", "GET /status?code=200 HTTP/1.1\r\nHost: HOST\r\n\r\nGET /status?code=202 HTTP/1.1\r\nHost: HOST\r\nConnection: close\r\n\r\n", "200 202", 2),
        new("unknown Transfer-Encoding", "POST /body HTTP/1.1\r\nHost: HOST\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\nabc", "400", 0),
        new("request line with two spaces", "GET  /status?code=200 HTTP/1.1\r\nHost: HOST\r\nConnection: close\r\n\r\n", "400", 0),
        new("request line without a target (found by HeadParserFuzzTests)", "GET HTTP/1.1\r\nHost: HOST\r\nConnection: close\r\n\r\n", "400", 0),
        new("control byte in the target", "GET /status?code=200\u0001 HTTP/1.1\r\nHost: HOST\r\nConnection: close\r\n\r\n", "400", 0),
        new("unknown host", "GET / HTTP/1.1\r\nHost: nobody-here.localhost\r\nConnection: close\r\n\r\n", "404", 0),
    ];

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var row in Table)
        {
            data.Add(row.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task BothFrontEndsAnswerTheSameAndAsExpected(string name)
    {
        var row = Table.Single(r => r.Name == name);
        var eventLoop = await SendAsync(_routers.EventLoop.PublicPort, row);
        var kestrel = await SendAsync(_routers.Kestrel.PublicPort, row);

        Assert.True(eventLoop == kestrel, $"{row.Name}: event loop answered {eventLoop}, Kestrel {kestrel}");
        Assert.Equal(row.Expected, eventLoop.Statuses);
        if (row.AppRequests is { } expected)
        {
            Assert.Equal(expected, eventLoop.AppRequests);
        }
    }

    private sealed record Answer(string Statuses, int AppRequests)
    {
        public override string ToString() => $"[{Statuses}] with {AppRequests} request(s) reaching the app";
    }

    private async Task<Answer> SendAsync(int port, Case row)
    {
        var before = _routers.Backend.Hits;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(row.Request.Replace("HOST", _routers.Host)));

        // Every row ends in a close (asked for, or after an error); a connection still open after 3 s counts as an answer too.
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // Reset or still open: what arrived is the answer.
        }

        var text = Encoding.Latin1.GetString(received.ToArray());
        var statuses = string.Join(' ', Regex.Matches(text, "HTTP/1\\.[01] (\\d{3}) ").Select(m => m.Groups[1].Value));
        // The app's own count settles once the response that reached it is written; give a request that passed through a moment.
        await Task.Delay(50);
        return new Answer(statuses.Length == 0 ? "none" : statuses, _routers.Backend.Hits - before);
    }

    private static string BigHeaders(int bytes)
    {
        var lines = new StringBuilder();
        var i = 0;
        while (lines.Length < bytes)
        {
            lines.Append($"X-Filler-{i++}: {new string('f', 1000)}\r\n");
        }

        return lines.ToString();
    }

    /// <summary>Both front ends in front of the echoing test app, whose request count tells what reached it.</summary>
    public sealed class Routers : FrontEndPair
    {
        internal TestBackend Backend { get; private set; } = null!;

        protected override async Task<(string Address, IAsyncDisposable Stop)> StartAppAsync()
        {
            Backend = await TestBackend.StartAsync("hostile");
            return (Backend.Address, Backend);
        }
    }
}
