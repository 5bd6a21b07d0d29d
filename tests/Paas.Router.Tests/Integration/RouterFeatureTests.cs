using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using StackExchange.Redis;
using static Paas.Router.Tests.Integration.RouterFixture;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// The routing tier's promises, each checked end to end against the real router process, real Redis and
/// real backends: lookup, errors with reasons, retries, protocols, headers, options, liveness, logs, metrics.
/// </summary>
public sealed class RouterFeatureTests : IClassFixture<RouterFixture>, IAsyncLifetime
{
    private readonly RouterFixture _f;
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];
    private TestBackend _a = null!;
    private TestBackend _b = null!;

    public RouterFeatureTests(RouterFixture fixture) => _f = fixture;

    public async Task InitializeAsync()
    {
        _a = await TestBackend.StartAsync("a");
        _b = await TestBackend.StartAsync("b");
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    private string App(string name) => $"{name}-{_id}";

    private string Host(string name) => $"{name}-{_id}.localhost";

    private async Task<string> RouteAsync(string name, params string[] addresses)
    {
        await _f.SetHostAsync(Host(name), App(name));
        for (var i = 0; i < addresses.Length; i++)
        {
            await _f.SetRouteAsync($"{App(name)}-web-{i}", App(name), addresses[i]);
        }

        await _f.WaitForEndpointsAsync(Host(name), addresses.Length);
        return Host(name);
    }

    [Fact]
    public async Task EachRequestLeavesARouterLineInTheAppsLogInOrder()
    {
        var host = $"logged-{_id}.localhost";
        await _f.SetHostAsync(host, App("logged"));
        await _f.SetRouteAsync(App("logged") + "-web-0", App("logged"), _a.Address);
        await _f.WaitForEndpointsAsync(host, 1);

        for (var i = 1; i <= 3; i++)
        {
            using var response = await _f.GetAsync(host, $"/page{i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var reader = new Paas.Core.Logs.AppLogReader(_f.Redis, new Paas.Core.Logs.LogKeys(_f.Prefix), TimeProvider.System);
        IReadOnlyList<Paas.Core.Logs.AppLogLine> lines = [];
        await _f.EventuallyAsync(async () =>
        {
            lines = (await reader.ReadLastAsync(App("logged"), 10, new Paas.Core.Logs.AppLogFilter(Source: "router"))).Lines;
            return lines.Count >= 3;
        }, "three router lines in the app's log");

        Assert.Equal(["/page1", "/page2", "/page3"], lines.Select(l => PathOf(l.Text)));
        Assert.All(lines, l => Assert.Contains("status=200", l.Text));
        Assert.All(lines, l => Assert.Contains($"instance={App("logged")}-web-0", l.Text));

        static string PathOf(string line) => line.Split("path=\"")[1].Split('"')[0];
    }

    [Fact]
    public async Task WildcardHostRoutesWhenNoExactHostMatches()
    {
        var domain = $"wild-{_id}.test";
        await _f.SetHostAsync($"*.{domain}", App("wild"));
        await _f.SetHostAsync($"www.{domain}", App("exact"));
        await _f.SetRouteAsync(App("wild") + "-web-0", App("wild"), _a.Address);
        await _f.SetRouteAsync(App("exact") + "-web-0", App("exact"), _b.Address);
        await _f.WaitForEndpointsAsync($"www.{domain}", 1);
        await _f.WaitForEndpointsAsync($"*.{domain}", 1);

        using (var response = await _f.GetAsync($"Shop.{domain.ToUpperInvariant()}:8080"))
        {
            Assert.Equal("a", await response.Content.ReadAsStringAsync());
        }

        // One label only, as in TLS: a wildcard never reaches below a deeper name.
        using (var response = await _f.GetAsync($"deep.shop.{domain}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("unknown_route", Header(response, "X-Paas-Router-Error"));
        }

        using (var response = await _f.GetAsync($"www.{domain}"))
        {
            Assert.Equal("b", await response.Content.ReadAsStringAsync());
        }

        using (var response = await _f.GetAsync(domain))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("unknown_route", Header(response, "X-Paas-Router-Error"));
        }
    }

    [Fact]
    public async Task SlowAppGets504WithTimeoutReasonAfterItsOwnTimeout()
    {
        var host = await RouteAsync("slow", _a.Address);
        await _f.SetOptionsAsync(App("slow"), new { timeout_seconds = 0.5 });

        var clock = Stopwatch.StartNew();
        HttpResponseMessage? response = null;
        await _f.EventuallyAsync(async () =>
        {
            response?.Dispose();
            response = await _f.GetAsync(host, "/slow?ms=3000");
            return response.StatusCode == HttpStatusCode.GatewayTimeout;
        }, "504 from a slow app");

        Assert.Equal("timeout", Header(response!, "X-Paas-Router-Error"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4 * 3 + 5));
        response!.Dispose();

        // The same app's quick answers are unaffected.
        using var quick = await _f.GetAsync(host, "/slow?ms=10");
        Assert.Equal(HttpStatusCode.OK, quick.StatusCode);
    }

    [Fact]
    public async Task DeadInstancesAreRetriedUpToThreeAttemptsAndNoRequestFails()
    {
        var host = await RouteAsync("dead", $"127.0.0.1:{RouterProcess.FreePort()}", $"127.0.0.1:{RouterProcess.FreePort()}", _a.Address);

        for (var i = 0; i < 9; i++)
        {
            using var request = _f.Request(HttpMethod.Post, host, "/body");
            request.Content = new StringContent("payload-" + i);
            using var response = await _f.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal($"a:{("payload-" + i).Length}", await response.Content.ReadAsStringAsync());
        }

        // The refusing instances were put in cool-down, visible to the controller and shared with other routers.
        var entry = await _f.WaitForEndpointsAsync(host, 3);
        var cooling = entry.GetProperty("endpoints").EnumerateArray().Count(e => e.GetProperty("cooling").GetBoolean());
        Assert.Equal(2, cooling);
    }

    [Fact]
    public async Task GetIsRetriedWhenTheBackendClosesWithoutAnsweringButAPostWithABodyIsNot()
    {
        await using var closing = new ClosingBackend();
        var host = await RouteAsync("closing", closing.Address, _a.Address);

        for (var i = 0; i < 4; i++)
        {
            using var response = await _f.GetAsync(host);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("a", await response.Content.ReadAsStringAsync());
        }

        Assert.True(closing.Requests >= 1, "round-robin should have sent some GETs to the closing instance first");

        var aBefore = _a.Hits;
        var failures = 0;
        for (var i = 0; i < 4; i++)
        {
            using var request = _f.Request(HttpMethod.Post, host, "/body");
            request.Content = new StringContent("charge-the-card");
            using var response = await _f.Http.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.BadGateway)
            {
                failures++;
                Assert.Equal("endpoint_failure", Header(response, "X-Paas-Router-Error"));
            }
        }

        // Round-robin alternates: the POSTs that went to the closing instance failed and were not sent again.
        Assert.InRange(failures, 1, 3);
        Assert.Equal(4 - failures, _a.Hits - aBefore);
    }

    [Fact]
    public async Task WebsocketEchoesThroughTheRouter()
    {
        var host = await RouteAsync("ws", _a.Address);

        using var socket = new ClientWebSocket();
        using var invoker = new HttpMessageInvoker(LoopbackHandler());
        await socket.ConnectAsync(new Uri($"ws://{host}:{_f.Router.PublicPort}/ws"), invoker, CancellationToken.None);
        var buffer = new byte[1024];
        foreach (var message in new[] { "hello", "again" })
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, CancellationToken.None);
            var received = await socket.ReceiveAsync(buffer, new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
            Assert.Equal(message, Encoding.UTF8.GetString(buffer, 0, received.Count));
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
    }

    [Fact]
    public async Task Http2OverTlsBySniAndOverH2c()
    {
        var host = await RouteAsync("h2", _a.Address);

        // The certificate the handshake got: the fixture's default is another one, so this names SNI's choice.
        string? served = null;
        using var handler = LoopbackHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            served = certificate?.Subject;
            return true;
        };
        using var tls = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(20) };
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"https://{host}:{_f.TlsPort}/")
               { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact })
        using (var response = await tls.SendAsync(request))
        {
            Assert.Equal("CN=*.localhost", served);
            Assert.Equal(HttpVersion.Version20, response.Version);
            Assert.Equal("a", await response.Content.ReadAsStringAsync());
            Assert.Equal("https", Header(response, "X-Seen-X-Forwarded-Proto"));
            Assert.Equal(_f.TlsPort.ToString(), Header(response, "X-Seen-X-Forwarded-Port"));
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, $"http://{host}:{_f.H2cPort}/")
               { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact })
        using (var response = await _f.Http.SendAsync(request))
        {
            Assert.Equal(HttpVersion.Version20, response.Version);
            Assert.Equal("a", await response.Content.ReadAsStringAsync());
            Assert.Equal("http", Header(response, "X-Seen-X-Forwarded-Proto"));
        }
    }

    [Fact]
    public async Task ForwardingHeadersAreTheRoutersAndHopByHopHeadersAreStripped()
    {
        var host = await RouteAsync("headers", _a.Address);

        // Raw HTTP/1.1 so the client controls every header exactly as a hostile one could.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _f.Router.PublicPort);
        var stream = tcp.GetStream();
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var raw = $"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nKeep-Alive: timeout=600\r\nProxy-Connection: keep-alive\r\n" +
                  "X-Forwarded-Proto: https\r\nX-Forwarded-Port: 443\r\nX-Forwarded-Host: evil.example\r\nX-Request-Start: 1\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(raw));
        var text = await new StreamReader(stream).ReadToEndAsync();
        var headers = text.Split("\r\n").TakeWhile(l => l.Length > 0).Skip(1)
            .Select(l => l.Split(':', 2)).ToDictionary(p => p[0], p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);

        Assert.StartsWith("HTTP/1.1 200", text);
        Assert.Equal("", headers["X-Seen-Keep-Alive"]);
        Assert.Equal("", headers["X-Seen-Proxy-Connection"]);
        Assert.Equal("", headers["X-Seen-Connection"]);
        Assert.Equal("http", headers["X-Seen-X-Forwarded-Proto"]);
        Assert.Equal("80", headers["X-Seen-X-Forwarded-Port"]);
        Assert.Equal(host, headers["X-Seen-X-Forwarded-Host"]);
        Assert.Equal("127.0.0.1", headers["X-Seen-X-Forwarded-For"]);
        var start = long.Parse(headers["X-Seen-X-Request-Start"]);
        Assert.InRange(start, before - 1000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.True(Paas.Router.Forwarding.RequestId.IsValid(headers["X-Seen-X-Request-Id"]));
    }

    [Fact]
    public async Task OversizedHeadersGet431AndOversizedBodies413WithReasons()
    {
        var host = await RouteAsync("limits", _a.Address);
        await _f.SetOptionsAsync(App("limits"), new { max_body_bytes = 100 });

        // 40 KB, and just over the 32 KB limit (the event loop's own buffer takes up to the limit plus 8 KB:
        // the head must still be refused, not forwarded).
        foreach (var (lines, size) in new[] { (1, 40 * 1024), (1, 33 * 1024), (35, 1000) })
        {
            using var request = _f.Request(HttpMethod.Get, host);
            for (var i = 0; i < lines; i++)
                request.Headers.Add($"X-Big-{i}", new string('x', size));
            using var response = await _f.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
            Assert.Equal("headers_too_large", Header(response, "X-Paas-Router-Error"));
        }

        HttpResponseMessage? last = null;
        await _f.EventuallyAsync(async () =>
        {
            last?.Dispose();
            using var request = _f.Request(HttpMethod.Post, host, "/body");
            request.Content = new ByteArrayContent(new byte[1000]);
            last = await _f.Http.SendAsync(request);
            return last.StatusCode == HttpStatusCode.RequestEntityTooLarge;
        }, "413 for a 1000-byte body over a 100-byte limit");
        Assert.Equal("body_too_large", Header(last!, "X-Paas-Router-Error"));
        last!.Dispose();

        // Chunked (no Content-Length): cut off at the limit, same answer.
        using (var request = _f.Request(HttpMethod.Post, host, "/body"))
        {
            request.Content = new StreamContent(new MemoryStream(new byte[5000]));
            request.Headers.TransferEncodingChunked = true;
            using var response = await _f.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }

        using (var request = _f.Request(HttpMethod.Post, host, "/body"))
        {
            request.Content = new ByteArrayContent(new byte[50]);
            using var response = await _f.Http.SendAsync(request);
            Assert.Equal("a:50", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task LeastRequestsAvoidsTheBusyInstance()
    {
        var host = await RouteAsync("least", _a.Address, _b.Address);
        await _f.SetOptionsAsync(App("least"), new { balancing = "least-requests" });
        await _f.EventuallyAsync(async () =>
        {
            using var routes = JsonDocument.Parse(await _f.Http.GetStringAsync(new Uri(_f.Router.AdminUrl, "routes")));
            return routes.RootElement.GetProperty("hosts").GetProperty(host).GetProperty("balancing").GetString() == "least-requests";
        }, "the router applying least-requests");

        // Occupy one instance with a long request (until it has arrived there), then every quick one must go to the other.
        var hitsBefore = _a.Hits + _b.Hits;
        var slow = _f.GetAsync(host, "/slow?ms=2500");
        await _f.EventuallyAsync(() => Task.FromResult(_a.Hits + _b.Hits > hitsBefore), "the slow request reaching an instance");
        var seen = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            using var response = await _f.GetAsync(host);
            seen.Add(Header(response, "X-Backend")!);
        }

        using var slowResponse = await slow;
        var busy = Header(slowResponse, "X-Backend");
        Assert.DoesNotContain(busy, seen);
    }

    [Fact]
    public async Task StickyCookieKeepsAClientOnItsInstance()
    {
        var host = await RouteAsync("sticky", _a.Address, _b.Address);
        await _f.SetOptionsAsync(App("sticky"), new { sticky_cookie = "PAAS_INSTANCE" });

        string? cookie = null;
        await _f.EventuallyAsync(async () =>
        {
            using var response = await _f.GetAsync(host);
            cookie = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.First() : null;
            return cookie is not null;
        }, "a sticky cookie");

        Assert.StartsWith($"PAAS_INSTANCE={App("sticky")}-web-", cookie);
        var pair = cookie!.Split(';')[0];
        var backends = new HashSet<string>();
        for (var i = 0; i < 6; i++)
        {
            using var request = _f.Request(HttpMethod.Get, host);
            request.Headers.Add("Cookie", pair);
            using var response = await _f.Http.SendAsync(request);
            backends.Add(Header(response, "X-Backend")!);
            Assert.False(response.Headers.Contains("Set-Cookie"));
        }

        Assert.Single(backends);
    }

    [Fact]
    public async Task RemovedEndpointGetsNoMoreTrafficWithinTheBound()
    {
        var host = await RouteAsync("removed", _a.Address, _b.Address);

        await _f.DeleteRouteAsync(App("removed") + "-web-0");
        var clock = Stopwatch.StartNew();
        await _f.WaitForEndpointsAsync(host, 1);
        var propagation = clock.Elapsed;

        var hitsOnRemoved = _a.Hits;
        for (var i = 0; i < 10; i++)
        {
            using var response = await _f.GetAsync(host);
            Assert.Equal("b", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(hitsOnRemoved, _a.Hits);
        // The goal is 100 ms; the bound asserted leaves room for a machine busy with parallel test runs.
        Assert.True(propagation < TimeSpan.FromSeconds(1), $"took {propagation.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task EndpointOnACellWhoseHeartbeatLapsesKeepsTrafficWhileItAnswers()
    {
        // A crashed cell agent stops the heartbeats; its instances, unharmed, must go on serving.
        var cell = "cell-" + _id;
        await _f.Db.StringSetAsync(_f.Prefix + $"cells:{cell}:alive", "1", TimeSpan.FromSeconds(60));
        await _f.SetHostAsync(Host("silent"), App("silent"));
        await _f.SetRouteAsync(App("silent") + "-web-0", App("silent"), _a.Address, cell);
        await _f.SetRouteAsync(App("silent") + "-web-1", App("silent"), _b.Address);
        await _f.WaitForEndpointsAsync(Host("silent"), 2);

        await _f.Db.KeyDeleteAsync(_f.Prefix + $"cells:{cell}:alive");
        await _f.EventuallyAsync(() => Task.FromResult(_f.Router.Output.Contains($"Cell {cell} stopped its heartbeats, but 1 of its 1 endpoints answer")),
            "the router's check of the silent cell");

        await _f.WaitForEndpointsAsync(Host("silent"), 2);
        var hits = _a.Hits;
        for (var i = 0; i < 6; i++)
        {
            using var response = await _f.GetAsync(Host("silent"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.True(_a.Hits > hits, "the silent cell's answering endpoint got no traffic");
    }

    [Fact]
    public async Task EndpointOnACellWhoseHeartbeatLapsesAndThatDoesNotAnswerStopsGettingTraffic()
    {
        var cell = "cell-" + _id;
        var gone = "127.0.0.1:" + ClosedPort();
        await _f.Db.StringSetAsync(_f.Prefix + $"cells:{cell}:alive", "1", TimeSpan.FromSeconds(60));
        await _f.SetHostAsync(Host("beat"), App("beat"));
        await _f.SetRouteAsync(App("beat") + "-web-0", App("beat"), gone, cell);
        await _f.SetRouteAsync(App("beat") + "-web-1", App("beat"), _b.Address);
        await _f.WaitForEndpointsAsync(Host("beat"), 2);

        // Nobody unregisters anything: the cell stops refreshing its key, and its host is gone.
        await _f.Db.KeyExpireAsync(_f.Prefix + $"cells:{cell}:alive", TimeSpan.FromMilliseconds(500));
        await _f.WaitForEndpointsAsync(Host("beat"), 1, seconds: 10);

        for (var i = 0; i < 6; i++)
        {
            using var response = await _f.GetAsync(Host("beat"));
            Assert.Equal("b", await response.Content.ReadAsStringAsync());
        }

        // The cell comes back: so does its endpoint.
        await _f.Db.StringSetAsync(_f.Prefix + $"cells:{cell}:alive", "1", TimeSpan.FromSeconds(60));
        await _f.WaitForEndpointsAsync(Host("beat"), 2);
    }

    [Fact]
    public async Task EveryRouterAcknowledgesTheRouteVersionItServes()
    {
        // A writer waits for every live router (Paas.Core's RouterAcknowledgement), not for one admin port.
        await using var other = await _f.StartRouterAsync(new Dictionary<string, string> { ["PAAS_ROUTER_ID"] = "other-" + _id });
        var keys = new Paas.Core.Routing.RouteKeys(_f.Prefix);
        var routers = new[] { $"{Environment.MachineName}-{_f.Router.PublicPort}", "other-" + _id };
        await _f.SetHostAsync(Host("ack"), App("ack"));

        var version = await _f.Routes.SetRouteAsync(App("ack") + "-web-0",
            JsonSerializer.Serialize(new { instance = App("ack") + "-web-0", app = App("ack"), process = "web", release = 1, address = _a.Address }));
        await _f.EventuallyAsync(async () =>
        {
            var applied = await _f.Db.StringGetAsync(routers.Select(r => (RedisKey)keys.RouterApplied(r)).ToArray());
            return applied.All(v => v.HasValue && (long)v >= version);
        }, "both routers' acknowledgements of the write");

        // An acknowledgement means the table is served: both list the endpoint at once, no waiting.
        foreach (var router in new[] { _f.Router, other })
            await _f.WaitForEndpointsAsync(Host("ack"), 1, router, seconds: 0);
        var enrolled = (await _f.Db.HashKeysAsync(keys.Routers)).Select(k => k.ToString()).ToList();
        Assert.Contains(routers[0], enrolled);
        Assert.Contains(routers[1], enrolled);
    }

    private static int ClosedPort() => Paas.Testing.TestPorts.Next();

    [Fact]
    public async Task AccessLogHasOneLinePerRequestWithItsDetails()
    {
        var host = await RouteAsync("logged", _a.Address);
        var id = "req-" + _id;
        using (var request = _f.Request(HttpMethod.Get, host, "/some/path?token=secret"))
        {
            request.Headers.Add("X-Request-Id", id);
            using var response = await _f.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        JsonElement? line = null;
        await _f.EventuallyAsync(async () =>
        {
            await using var file = new FileStream(_f.AccessLogPath, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite);
            var text = await new StreamReader(file).ReadToEndAsync();
            var match = text.Split('\n').Where(l => l.Contains(id)).ToList();
            if (match.Count == 1)
            {
                line = JsonDocument.Parse(match[0]).RootElement.Clone();
            }

            return match.Count == 1;
        }, "the access-log line");

        var entry = line!.Value;
        Assert.Equal(host, entry.GetProperty("host").GetString());
        Assert.Equal("GET", entry.GetProperty("method").GetString());
        Assert.Equal("/some/path", entry.GetProperty("path").GetString());
        Assert.Equal(200, entry.GetProperty("status").GetInt32());
        Assert.Equal(1, entry.GetProperty("bytes").GetInt64());
        Assert.Equal(App("logged"), entry.GetProperty("app").GetString());
        Assert.Equal(App("logged") + "-web-0", entry.GetProperty("instance").GetString());
        Assert.Equal(1, entry.GetProperty("attempts").GetInt32());
        Assert.True(entry.GetProperty("duration_ms").GetDouble() >= entry.GetProperty("upstream_ms").GetDouble());
        Assert.Equal(JsonValueKind.Null, entry.GetProperty("error").ValueKind);
        Assert.True(DateTime.UtcNow - entry.GetProperty("time").GetDateTime().ToUniversalTime() < TimeSpan.FromMinutes(1));
        Assert.DoesNotContain("secret", line.ToString());
    }

    [Fact]
    public async Task MetricsCountRequestsByAppAndStatus()
    {
        var host = await RouteAsync("metrics", _a.Address);
        for (var i = 0; i < 3; i++)
        {
            using var response = await _f.GetAsync(host);
        }

        var text = await _f.Http.GetStringAsync(new Uri(_f.Router.AdminUrl, "metrics"));
        Assert.Contains($"paas_router_requests_total{{app=\"{App("metrics")}\",code=\"200\"}} 3\n", text);
        Assert.Contains("paas_router_request_duration_seconds_bucket{le=\"+Inf\"}", text);
        // Latency per app, the data behind `paas metrics` and the dashboard's percentiles.
        Assert.Contains($"paas_router_app_request_duration_seconds_count{{app=\"{App("metrics")}\"}} 3\n", text);
        Assert.Contains($"paas_router_app_request_duration_seconds_bucket{{app=\"{App("metrics")}\",le=\"+Inf\"}} 3\n", text);
        Assert.Matches(@"paas_router_open_connections \d+", text);
        Assert.Matches(@"paas_router_table_hosts [1-9]\d*", text);
        Assert.Matches(@"paas_router_redis_last_sync_seconds \d", text);
    }

    [Fact]
    public async Task TrafficPerAppIsHandedToTheControllerThroughRedis()
    {
        await using var router = await _f.StartRouterAsync(new Dictionary<string, string>
        {
            ["PAAS_ROUTER_ID"] = "metrics-publisher",
            ["PAAS_METRICS_INTERVAL_SECONDS"] = "1",
        });
        var host = await RouteAsync("published", _a.Address);
        await _f.WaitForEndpointsAsync(host, 1, router);
        for (var i = 0; i < 4; i++)
        {
            using var response = await _f.GetAsync(host, router: router);
        }

        var key = new Paas.Core.Metrics.MetricsKeys(_f.Prefix).RouterTraffic("metrics-publisher");
        await _f.EventuallyAsync(async () =>
        {
            var json = await _f.Db.HashGetAsync(key, App("published"));
            if (json.IsNull)
            {
                return false;
            }

            var traffic = JsonSerializer.Deserialize<Paas.Core.Metrics.AppTraffic>(json.ToString())!;
            return traffic.ByStatus.GetValueOrDefault(200) == 4 && traffic.Buckets.Sum() == 4;
        }, "the router publishes 4 requests with their latency buckets");
        Assert.True(await _f.Db.KeyTimeToLiveAsync(key) <= TimeSpan.FromSeconds(3), "the hash expires when the router stops publishing");
    }

    [Fact]
    public async Task ARefusedConnectionIsSharedWithEveryRouterThroughRedis()
    {
        await using var other = await _f.StartRouterAsync(new Dictionary<string, string>());
        var dead = $"127.0.0.1:{RouterProcess.FreePort()}";
        var host = await RouteAsync("shared", dead, _a.Address);
        await _f.WaitForEndpointsAsync(host, 2, other);

        using (var response = await _f.GetAsync(host))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Round-robin may have started on the live one; keep asking the first router until it has met the dead one.
        await _f.EventuallyAsync(async () =>
        {
            using var response = await _f.GetAsync(host);
            using var routes = JsonDocument.Parse(await _f.Http.GetStringAsync(new Uri(other.AdminUrl, "routes")));
            return routes.RootElement.GetProperty("hosts").GetProperty(host).GetProperty("endpoints").EnumerateArray()
                .Any(e => e.GetProperty("address").GetString() == dead && e.GetProperty("cooling").GetBoolean());
        }, "the other router learning the dead instance is cooling down");
    }
}
