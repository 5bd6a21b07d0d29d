using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using static Paas.Router.Tests.Integration.RouterFixture;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// The public port's own event loops (FrontEnd/): requests they forward themselves and connections they
/// hand to Kestrel share one connection and keep their order; the client's address survives the hand-over;
/// the port is not shared with another router; Kestrel alone still serves when chosen.
/// </summary>
public sealed class FrontEndTests : IClassFixture<RouterFixture>, IAsyncLifetime
{
    private readonly RouterFixture _f;
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];
    private TestBackend _a = null!;

    public FrontEndTests(RouterFixture fixture) => _f = fixture;

    public async Task InitializeAsync() => _a = await TestBackend.StartAsync("a");

    public async Task DisposeAsync() => await _a.DisposeAsync();

    private async Task<string> RouteAsync(string name, RouterProcess? router = null)
    {
        var host = $"{name}-{_id}.localhost";
        await _f.SetHostAsync(host, $"{name}-{_id}");
        await _f.SetRouteAsync($"{name}-{_id}-web-0", $"{name}-{_id}", _a.Address);
        await _f.WaitForEndpointsAsync(host, 1, router);
        return host;
    }

    [Fact]
    public async Task NewConnectionsArrivingInTheSameBatchAsReadsAreAllAnswered()
    {
        // The listener's readiness, sharing an epoll batch with readable connections, made the batched
        // receive throw (its marker became fd -1 and indexed the channel table) and leave its queued
        // receives behind for the next batch: make chaos saw requests with no answer in 30 s, one in
        // ~2,000 at 40 new connections a second, and 406 "batched receive failed" errors in 6 minutes.
        var host = await RouteAsync("fresh");
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var clients = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 150; i++)
            {
                try
                {
                    using var tcp = new TcpClient();
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    await tcp.ConnectAsync(IPAddress.Loopback, _f.Router.PublicPort, timeout.Token);
                    var stream = tcp.GetStream();
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /big?bytes=3 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"), timeout.Token);
                    var text = await new StreamReader(stream, Encoding.Latin1).ReadToEndAsync(timeout.Token);
                    if (!text.StartsWith("HTTP/1.1 200 ", StringComparison.Ordinal))
                    {
                        failures.Add(text.Length == 0 ? "closed without an answer" : text.Split('\r')[0]);
                    }
                }
                catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
                {
                    failures.Add(e.GetType().Name);
                }
            }
        })).ToList();
        await Task.WhenAll(clients);

        Assert.True(failures.IsEmpty, $"{failures.Count} of 1200 failed: {string.Join(", ", failures.Distinct())}");
        Assert.DoesNotContain("batched receive failed", _f.Router.Output);
    }

    [Fact]
    public async Task PipelinedRequestsAreAnsweredInOrderAcrossTheHandOverToKestrel()
    {
        var host = await RouteAsync("pipelined");

        // Two plain GETs (the event loop's own), a POST with a body (handed to Kestrel mid-connection), then a
        // GET that must now go through Kestrel too: all written at once, before any answer.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _f.Router.PublicPort);
        var stream = tcp.GetStream();
        var requests =
            $"GET /big?bytes=3 HTTP/1.1\r\nHost: {host}\r\n\r\n" +
            $"GET /big?bytes=5 HTTP/1.1\r\nHost: {host}\r\n\r\n" +
            $"POST /body HTTP/1.1\r\nHost: {host}\r\nContent-Length: 2\r\n\r\nhi" +
            $"GET /big?bytes=7 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(requests));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var text = await new StreamReader(stream, Encoding.Latin1).ReadToEndAsync(timeout.Token);

        // Not anchored to a line start: a response follows the previous body directly, and /big bodies end in no newline.
        var statuses = Regex.Matches(text, "HTTP/1\\.1 (\\d{3}) ");
        var statusLines = statuses.Select(m => m.Index).ToList();
        Assert.Equal(4, statusLines.Count);
        Assert.All(statuses, m => Assert.Equal("200", m.Groups[1].Value));
        var lengths = Regex.Matches(text, "^Content-Length: (\\d+)", RegexOptions.Multiline | RegexOptions.IgnoreCase)
            .Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["3", "5", "7"], lengths);
        var posted = text.IndexOf("a:2", StringComparison.Ordinal);
        Assert.InRange(posted, statusLines[2], statusLines[3]);

        // The handed-over request still names the client, not the hand-over socket.
        var third = text[statusLines[2]..statusLines[3]];
        Assert.Matches("(?im)^X-Seen-X-Forwarded-For: 127\\.0\\.0\\.1\\r$", third);
        Assert.Matches("(?im)^X-Seen-X-Forwarded-Proto: http\\r$", third);
    }

    [Fact]
    public async Task ASlowClientGetsALargeResponseWhole()
    {
        var host = await RouteAsync("slowclient");
        const int size = 8 * 1024 * 1024;

        using var tcp = new TcpClient { ReceiveBufferSize = 4096 };
        await tcp.ConnectAsync(IPAddress.Loopback, _f.Router.PublicPort);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /big?bytes={size} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"));

        // Reads in small sips with pauses, so the router has to hold back the app rather than buffer it all.
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        var sips = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        int read;
        while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
        {
            received.Write(buffer, 0, read);
            if (++sips % 16 == 0 && sips < 400)
            {
                await Task.Delay(5, timeout.Token);
            }
        }

        var bytes = received.ToArray();
        var headEnd = bytes.AsSpan().IndexOf("\r\n\r\n"u8) + 4;
        Assert.StartsWith("HTTP/1.1 200", Encoding.ASCII.GetString(bytes, 0, 12));
        Assert.Equal(size, bytes.Length - headEnd);
        for (var i = 0; i < size; i += 4099)
        {
            Assert.Equal(TestBackend.BigByte(i), bytes[headEnd + i]);
        }
    }

    [Theory]
    [InlineData("on")]
    [InlineData("off")]
    public async Task ManyClientsAtOnceEachGetTheirOwnAnswersWhole(string ioUring)
    {
        // On (the default), a busy loop makes a whole epoll batch's receives, and then its sends, in one
        // io_uring submission each; off, one system call each. Both must give every client its own answers.
        await using var router = await _f.StartRouterAsync(new Dictionary<string, string> { ["PAAS_ROUTER_IO_URING"] = ioUring });
        var host = await RouteAsync($"many{ioUring}", router);

        // 48 keep-alive connections each ask for 30 bodies of their own sizes, one after another, while 4 more
        // read 1 MiB bodies in small sips (the kernel takes only part of each send for them).
        var fast = Enumerable.Range(0, 48).Select(client => Task.Run(async () =>
        {
            await using var connection = await RawConnection.OpenAsync(router.PublicPort);
            for (var i = 0; i < 30; i++)
            {
                var size = 1 + (client * 30 + i) * 7 % 5000;
                var body = await connection.GetAsync(host, $"/big?bytes={size}");
                Assert.Equal(size, body.Length);
                for (var at = 0; at < size; at++)
                {
                    Assert.Equal(TestBackend.BigByte(at), body[at]);
                }
            }
        }));
        var slow = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            await using var connection = await RawConnection.OpenAsync(router.PublicPort, receiveBuffer: 4096);
            var body = await connection.GetAsync(host, "/big?bytes=1048576", sipDelay: TimeSpan.FromMilliseconds(2));
            Assert.Equal(1048576, body.Length);
            for (var at = 0; at < body.Length; at += 997)
            {
                Assert.Equal(TestBackend.BigByte(at), body[at]);
            }
        }));
        await Task.WhenAll(fast.Concat(slow)).WaitAsync(TimeSpan.FromSeconds(90));

        var metrics = await _f.Http.GetStringAsync(new Uri(router.AdminUrl, "metrics"));
        var batched = long.Parse(Regex.Match(metrics, "(?m)^paas_router_batched_io_total (\\d+)$").Groups[1].Value);
        if (ioUring == "on")
        {
            // This platform's kernel has io_uring: the router must have used it (it says why not in its log otherwise).
            Assert.True(batched > 0, $"no batched sends or receives; router output:\n{router.Output}");
        }
        else
        {
            Assert.Equal(0, batched);
        }
    }

    [Fact]
    public async Task ASecondRouterOnTheSamePortFailsToStartInsteadOfSharingIt()
    {
        var start = new ProcessStartInfo(RouterProcess.DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Paas.Router.dll"));
        start.Environment["PAAS_ROUTER_PORT"] = _f.Router.PublicPort.ToString();
        start.Environment["PAAS_ROUTER_ADMIN_PORT"] = RouterProcess.FreePort().ToString();
        start.Environment["PAAS_ROUTER_BIND"] = "127.0.0.1";
        start.Environment["PAAS_ROUTER_TLS_PORT"] = "0";
        start.Environment["PAAS_REDIS"] = RedisTestEnvironment.Configuration;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(1, process.ExitCode);
        Assert.Contains("cannot listen", await error);
        // And the first router still has the port to itself.
        var host = await RouteAsync("stillmine");
        using var response = await _f.GetAsync(host);
        Assert.Equal("a", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task KestrelAloneServesThePublicPortWhenChosen()
    {
        await using var router = await _f.StartRouterAsync(new Dictionary<string, string> { ["PAAS_ROUTER_FRONT_END"] = "kestrel" });
        var host = await RouteAsync("kestrelonly", router);

        using (var response = await _f.GetAsync(host, "/", router))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("a", await response.Content.ReadAsStringAsync());
            Assert.Equal("127.0.0.1", Header(response, "X-Seen-X-Forwarded-For"));
        }

        using (var response = await _f.GetAsync($"nobody-{_id}.localhost", "/", router))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("unknown_route", Header(response, "X-Paas-Router-Error"));
        }

        Assert.DoesNotContain("paas-front-end", ThreadNames(router));
    }

    [Fact]
    public async Task TheEventLoopsServeThePublicPortByDefault()
    {
        var host = await RouteAsync("loops");
        using var response = await _f.GetAsync(host);
        Assert.Equal("a", await response.Content.ReadAsStringAsync());
        Assert.Contains("paas-front-end", ThreadNames(_f.Router));
    }

    /// <summary>A keep-alive HTTP/1.1 connection written and read by hand, so many can run at once without a client library's pooling.</summary>
    private sealed class RawConnection : IAsyncDisposable
    {
        private readonly TcpClient _tcp;
        private readonly NetworkStream _stream;
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        private RawConnection(TcpClient tcp)
        {
            _tcp = tcp;
            _stream = tcp.GetStream();
        }

        public static async Task<RawConnection> OpenAsync(int port, int? receiveBuffer = null)
        {
            var tcp = new TcpClient { NoDelay = true };
            if (receiveBuffer is { } size)
            {
                tcp.ReceiveBufferSize = size;
            }

            await tcp.ConnectAsync(IPAddress.Loopback, port);
            return new RawConnection(tcp);
        }

        /// <summary>Sends a GET and returns the body of a 200 response framed by Content-Length.</summary>
        public async Task<byte[]> GetAsync(string host, string path, TimeSpan sipDelay = default)
        {
            await _stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n"));
            int headEnd;
            while ((headEnd = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0)
            {
                await FillAsync();
            }

            var head = Encoding.ASCII.GetString(_buffer, _start, headEnd);
            _start += headEnd + 4;
            Assert.StartsWith("HTTP/1.1 200 ", head);
            var length = int.Parse(Regex.Match(head, "(?im)^Content-Length: (\\d+)\r?$").Groups[1].Value);
            var body = new byte[length];
            var filled = 0;
            while (filled < length)
            {
                if (_start == _end)
                {
                    if (sipDelay > TimeSpan.Zero)
                    {
                        await Task.Delay(sipDelay);
                    }

                    await FillAsync();
                }

                var take = Math.Min(length - filled, _end - _start);
                _buffer.AsSpan(_start, take).CopyTo(body.AsSpan(filled));
                _start += take;
                filled += take;
            }

            return body;
        }

        private async Task FillAsync()
        {
            if (_start == _end)
            {
                _start = _end = 0;
            }
            else if (_end == _buffer.Length)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), timeout.Token);
            Assert.True(read > 0, "the router closed the connection mid-response");
            _end += read;
        }

        public ValueTask DisposeAsync()
        {
            _tcp.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private static string[] ThreadNames(RouterProcess router) =>
        Directory.GetDirectories($"/proc/{router.ProcessId}/task")
            .Select(task => File.ReadAllText(Path.Combine(task, "comm")).Trim())
            .ToArray();
}
