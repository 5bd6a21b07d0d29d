using Paas.Core.Routing;
using System.Net;
using System.Text.Json;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// Drives the real router process through real Redis, the way the controller does: write the hash
/// entry, publish the change, and watch HTTP traffic follow.
/// </summary>
public sealed class RouterIntegrationTests : IAsyncLifetime
{
    private static readonly TimeSpan RouteDeadline = TimeSpan.FromSeconds(2);

    private readonly ITestOutputHelper _log;
    private readonly string _prefix = $"test-{Guid.NewGuid():N}:";
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
    {
        Timeout = TimeSpan.FromSeconds(15),
    };

    private ConnectionMultiplexer? _redis;
    private RouterProcess? _router;
    private TestBackend? _backend;

    public RouterIntegrationTests(ITestOutputHelper log) => _log = log;

    private IDatabase Db => _redis!.GetDatabase();

    private RouterProcess Router => _router!;

    public async Task InitializeAsync()
    {
        // Deliberately not AbortOnConnectFail=false: with no Redis this must throw, which is what
        // makes the test fail under CI=true instead of quietly passing.
        _redis = await ConnectionMultiplexer.ConnectAsync(RedisTestEnvironment.Configuration + ",connectTimeout=3000");
        _backend = await TestBackend.StartAsync("hello from backend");
        _router = await RouterProcess.StartAsync(RedisTestEnvironment.Configuration, _prefix);
        await WaitForInitialLoadAsync();
    }

    public async Task DisposeAsync()
    {
        if (_router is not null)
        {
            _log.WriteLine(_router.Output);
            await _router.DisposeAsync();
        }

        if (_redis is not null)
        {
            await Db.KeyDeleteAsync([_prefix + "hosts", _prefix + "routes", _prefix + "routes:version"]);
            await _redis.DisposeAsync();
        }

        if (_backend is not null)
        {
            await _backend.DisposeAsync();
        }

        _http.Dispose();
    }

    [Fact]
    public async Task RoutesFollowRedisChanges()
    {
        // Unknown host: the router's own 404.
        using (var response = await GetAsync("nobody.localhost"))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("unknown_route", Header(response, "X-Paas-Router-Error"));
            Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType?.ToString());
            Assert.Equal("No app is served at nobody.localhost.", (await response.Content.ReadAsStringAsync()).Trim());
        }

        // Host known, no instance yet: 503. Mixed case and a port must still match the lowercase key.
        await SetHostAsync("hello.localhost", "hello");
        using (var response = await EventuallyAsync($"Hello.LocalHost:{Router.PublicPort}", r => r.StatusCode == HttpStatusCode.ServiceUnavailable))
        {
            Assert.Equal("no_endpoints", Header(response, "X-Paas-Router-Error"));
            Assert.Equal("hello has no running instance right now.", (await response.Content.ReadAsStringAsync()).Trim());
        }

        // An instance becomes healthy: traffic reaches it.
        await SetRouteAsync("hello-web-1-v2-ab12cd", "hello", _backend!.Address);
        using (var response = await EventuallyAsync("hello.localhost", r => r.StatusCode == HttpStatusCode.OK))
        {
            Assert.Equal("hello from backend", await response.Content.ReadAsStringAsync());
            Assert.Null(Header(response, "X-Paas-Router-Error"));
            Assert.Equal("hello.localhost", Header(response, "X-Seen-Host"));
        }

        // The admin view is the table requests are served from.
        using (var routes = JsonDocument.Parse(await _http.GetStringAsync(new Uri(Router.AdminUrl, "routes"))))
        {
            var host = routes.RootElement.GetProperty("hosts").GetProperty("hello.localhost");
            Assert.Equal("hello", host.GetProperty("app").GetString());
            var endpoint = Assert.Single(host.GetProperty("endpoints").EnumerateArray());
            Assert.Equal("hello-web-1-v2-ab12cd", endpoint.GetProperty("instance").GetString());
            Assert.Equal(_backend.Address, endpoint.GetProperty("address").GetString());
            Assert.True(routes.RootElement.GetProperty("version").GetInt64() >= 3);
        }

        // Client-supplied forwarding headers are overwritten, not trusted.
        using (var response = await GetAsync("hello.localhost", request =>
        {
            request.Headers.Add("X-Forwarded-Proto", "https");
            request.Headers.Add("X-Forwarded-Host", "evil.example");
            request.Headers.Add("X-Forwarded-Port", "443");
            request.Headers.Add("X-Forwarded-For", "203.0.113.9");
            request.Headers.Add("X-Request-Id", "abc-123");
            request.Headers.Add("X-Real-IP", "203.0.113.7");
            request.Headers.Add("Forwarded", "for=203.0.113.7;proto=https");
        }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("http", Header(response, "X-Seen-X-Forwarded-Proto"));
            Assert.Equal("hello.localhost", Header(response, "X-Seen-X-Forwarded-Host"));
            Assert.Equal("80", Header(response, "X-Seen-X-Forwarded-Port"));
            Assert.Equal("203.0.113.9, 127.0.0.1", Header(response, "X-Seen-X-Forwarded-For"));
            Assert.Equal("abc-123", Header(response, "X-Seen-X-Request-Id"));
            Assert.True(string.IsNullOrEmpty(Header(response, "X-Seen-X-Real-IP")), Header(response, "X-Seen-X-Real-IP"));
            Assert.True(string.IsNullOrEmpty(Header(response, "X-Seen-Forwarded")), Header(response, "X-Seen-Forwarded"));
        }

        // A malformed request id is replaced by one the app can safely log.
        using (var response = await GetAsync("hello.localhost", r => r.Headers.TryAddWithoutValidation("X-Request-Id", "no spaces allowed")))
        {
            var seen = Header(response, "X-Seen-X-Request-Id");
            Assert.NotEqual("no spaces allowed", seen);
            Assert.True(Paas.Router.Forwarding.RequestId.IsValid(seen));
        }

        // The instance goes away: back to 503.
        await DeleteRouteAsync("hello-web-1-v2-ab12cd");
        using (var response = await EventuallyAsync("hello.localhost", r => r.StatusCode == HttpStatusCode.ServiceUnavailable))
        {
            Assert.Equal("no_endpoints", Header(response, "X-Paas-Router-Error"));
        }

        // The host goes away: back to 404.
        await DeleteHostAsync("hello.localhost");
        using (var response = await EventuallyAsync("hello.localhost", r => r.StatusCode == HttpStatusCode.NotFound))
        {
            Assert.Equal("unknown_route", Header(response, "X-Paas-Router-Error"));
        }
    }

    [Fact]
    public async Task RefusedConnectionIsRetriedOnAnotherInstance()
    {
        await SetHostAsync("retry.localhost", "retry");
        // Sorted first, so round-robin starts on the dead one.
        await SetRouteAsync("retry-web-a-dead", "retry", $"127.0.0.1:{RouterProcess.FreePort()}");
        await SetRouteAsync("retry-web-b-live", "retry", _backend!.Address);
        await WaitForEndpointsAsync("retry.localhost", 2);

        for (var i = 0; i < 6; i++)
        {
            using var response = await PostAsync("retry.localhost", "payload");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("hello from backend", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task OnlyInstanceRefusingGives502()
    {
        await SetHostAsync("down.localhost", "down");
        await SetRouteAsync("down-web-1", "down", $"127.0.0.1:{RouterProcess.FreePort()}");

        using var response = await EventuallyAsync("down.localhost", r => r.StatusCode == HttpStatusCode.BadGateway);
        Assert.Equal("endpoint_failure", Header(response, "X-Paas-Router-Error"));
        Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType?.ToString());
    }

    [Fact]
    public async Task PeriodicResyncHealsAMissedMessage()
    {
        // Written and counted but never published, as if the message had been lost: the periodic check
        // finds the counter ahead of the table.
        await Db.HashSetAsync(_prefix + "hosts", "quiet.localhost", "quiet");
        await Routes.SkipVersionAsync();
        await using var router = await RouterProcess.StartAsync(RedisTestEnvironment.Configuration, _prefix,
            new Dictionary<string, string> { ["PAAS_ROUTER_RESYNC_SECONDS"] = "0.5" });
        await Db.HashSetAsync(_prefix + "routes", "quiet-web-1", RouteJson("quiet-web-1", "quiet", _backend!.Address));
        await Routes.SkipVersionAsync();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        HttpStatusCode status;
        do
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, router.PublicUrl);
            request.Headers.Host = "quiet.localhost";
            using var response = await _http.SendAsync(request);
            status = response.StatusCode;
            if (status == HttpStatusCode.OK)
            {
                break;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task AResyncThatFindsNothingNewKeepsTheTableAndOneThatDoesRebuildsIt()
    {
        await Db.HashSetAsync(_prefix + "hosts", "steady.localhost", "steady");
        await Db.HashSetAsync(_prefix + "routes", "steady-web-1", RouteJson("steady-web-1", "steady", _backend!.Address));
        await using var router = await RouterProcess.StartAsync(RedisTestEnvironment.Configuration, _prefix,
            new Dictionary<string, string> { ["PAAS_ROUTER_RESYNC_SECONDS"] = "0.2" });

        async Task<(long Version, string Text)> RoutesAsync()
        {
            var text = await _http.GetStringAsync(new Uri(router.AdminUrl, "routes"));
            using var json = JsonDocument.Parse(text);
            return (json.RootElement.GetProperty("version").GetInt64(), text);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while ((await RoutesAsync()).Version < 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var loaded = await RoutesAsync();
        Assert.Contains("steady-web-1", loaded.Text);
        // The start-up warm-up of the change path builds tables of its own, and must publish none of them.
        Assert.Equal(1, loaded.Version);
        Assert.DoesNotContain("warm-up", loaded.Text);
        // Long enough for cheap checks and at least one full reload (every tenth period): neither may
        // publish a new table when Redis holds what the table was built from.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal(loaded.Version, (await RoutesAsync()).Version);

        // Changed and counted without a message: the next check must notice, however cheap it has become.
        await Db.HashSetAsync(_prefix + "routes", "steady-web-1", RouteJson("steady-web-1", "steady", "127.0.0.1:9"));
        await Routes.SkipVersionAsync();
        var changed = loaded;
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!changed.Text.Contains("127.0.0.1:9") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            changed = await RoutesAsync();
        }

        Assert.Contains("127.0.0.1:9", changed.Text);
        Assert.True(changed.Version > loaded.Version);
    }

    [Fact]
    public async Task ALostMessageIsNoticedByTheNextOneWithoutWaitingForThePeriodicCheck()
    {
        await using var router = await StartLoadedRouterAsync(resyncSeconds: "3600");

        // Lost: in Redis and counted, never announced.
        await Db.HashSetAsync(_prefix + "hosts", "lost.localhost", "lost");
        await Routes.SkipVersionAsync();
        await SetRouteAsync("lost-web-1", "lost", _backend!.Address);

        // The route's message is one ahead of the table: the router reloads, and finds the host too.
        using var response = await EventuallyAsync("lost.localhost", r => r.StatusCode == HttpStatusCode.OK, router, TimeSpan.FromSeconds(5));
        Assert.Equal("hello from backend", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ChangesKeepFlowingWhenTheCounterStartsAgain()
    {
        await using var router = await StartLoadedRouterAsync(resyncSeconds: "3600");
        await SetHostAsync("before.localhost", "before");
        await SetRouteAsync("before-web-1", "before", _backend!.Address);
        await SetRouteAsync("before-web-2", "before", _backend.Address);
        (await EventuallyAsync("before.localhost", r => r.StatusCode == HttpStatusCode.OK, router, TimeSpan.FromSeconds(5))).Dispose();

        // As after a FLUSHALL: the counter is gone and the next write is number 1, below the table's 3.
        await Db.KeyDeleteAsync(_prefix + "routes:version");
        await SetHostAsync("after.localhost", "after");
        await SetRouteAsync("after-web-1", "after", _backend.Address);

        using var response = await EventuallyAsync("after.localhost", r => r.StatusCode == HttpStatusCode.OK, router, TimeSpan.FromSeconds(5));
        Assert.Equal("hello from backend", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AWriteThatSkipsTheCounterIsStillFoundByTheOccasionalFullReload()
    {
        await using var router = await StartLoadedRouterAsync(resyncSeconds: "0.2");

        // Made by hand, outside the contract: the counter says nothing changed, so only the full reload
        // every tenth period (2 s here) can find it.
        await Db.HashSetAsync(_prefix + "hosts", "byhand.localhost", "byhand");
        await Db.HashSetAsync(_prefix + "routes", "byhand-web-1", RouteJson("byhand-web-1", "byhand", _backend!.Address));

        using var response = await EventuallyAsync("byhand.localhost", r => r.StatusCode == HttpStatusCode.OK, router, TimeSpan.FromSeconds(8));
        Assert.Equal("hello from backend", await response.Content.ReadAsStringAsync());
    }

    // /healthz answers before Redis has been read; version 1 is the first completed load.
    private Task WaitForInitialLoadAsync() => WaitForVersionAsync(Router, 1);

    /// <summary>A router of the test's own with its periodic check every <paramref name="resyncSeconds"/>, once it has loaded its table.</summary>
    private async Task<RouterProcess> StartLoadedRouterAsync(string resyncSeconds)
    {
        var router = await RouterProcess.StartAsync(RedisTestEnvironment.Configuration, _prefix,
            new Dictionary<string, string> { ["PAAS_ROUTER_RESYNC_SECONDS"] = resyncSeconds });
        try
        {
            await WaitForVersionAsync(router, 1);
            return router;
        }
        catch
        {
            await router.DisposeAsync();
            throw;
        }
    }

    private async Task WaitForVersionAsync(RouterProcess router, long version)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            using var routes = JsonDocument.Parse(await _http.GetStringAsync(new Uri(router.AdminUrl, "routes")));
            if (routes.RootElement.GetProperty("version").GetInt64() >= version)
            {
                return;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"Router never reached table version {version}:\n" + router.Output);
    }

    private async Task WaitForEndpointsAsync(string host, int count)
    {
        var deadline = DateTime.UtcNow + RouteDeadline;
        while (true)
        {
            using var routes = JsonDocument.Parse(await _http.GetStringAsync(new Uri(Router.AdminUrl, "routes")));
            if (routes.RootElement.GetProperty("hosts").TryGetProperty(host, out var entry)
                && entry.GetProperty("endpoints").GetArrayLength() == count)
            {
                return;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new Xunit.Sdk.XunitException($"{host} never reached {count} endpoints: {routes.RootElement}");
            }

            await Task.Delay(25);
        }
    }

    private RouteWriter Routes => new(_redis!, new RouteKeys(_prefix));

    private Task SetHostAsync(string host, string app) => Routes.SetHostAsync(host, app);

    private Task DeleteHostAsync(string host) => Routes.RemoveHostAsync(host);

    private Task SetRouteAsync(string instance, string app, string address) => Routes.SetRouteAsync(instance, RouteJson(instance, app, address));

    private Task DeleteRouteAsync(string instance) => Routes.RemoveRouteAsync(instance);

    private static string RouteJson(string instance, string app, string address) =>
        JsonSerializer.Serialize(new { instance, app, process = "web", release = 2, address });

    private Task<HttpResponseMessage> GetAsync(string host, Action<HttpRequestMessage>? configure = null, RouterProcess? router = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, (router ?? Router).PublicUrl);
        request.Headers.Host = host;
        configure?.Invoke(request);
        return _http.SendAsync(request);
    }

    private Task<HttpResponseMessage> PostAsync(string host, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Router.PublicUrl) { Content = new StringContent(body) };
        request.Headers.Host = host;
        return _http.SendAsync(request);
    }

    /// <summary>Polls until the router's answer satisfies the condition; change propagation is asynchronous.</summary>
    private async Task<HttpResponseMessage> EventuallyAsync(string host, Func<HttpResponseMessage, bool> condition,
        RouterProcess? router = null, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? RouteDeadline);
        HttpResponseMessage? last = null;
        while (true)
        {
            last?.Dispose();
            last = await GetAsync(host, router: router);
            if (condition(last))
            {
                return last;
            }

            if (DateTime.UtcNow >= deadline)
            {
                var status = last.StatusCode;
                var error = Header(last, "X-Paas-Router-Error");
                last.Dispose();
                throw new Xunit.Sdk.XunitException($"Router still answers {(int)status} ({error}) for {host} after {within ?? RouteDeadline}.");
            }

            await Task.Delay(25);
        }
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;
}
