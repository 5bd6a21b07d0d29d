using System.Net;
using System.Security.Cryptography;
using System.Text;
using static Paas.Router.Tests.Integration.RouterFixture;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// What the app sends is what the client gets, through the router's own HTTP/1.1 forwarding path (plain
/// GET and HEAD): streamed events as they happen, large bodies byte for byte, bodiless statuses, and no
/// failed request when the app has dropped a pooled keep-alive connection.
/// </summary>
public sealed class ResponsePassThroughTests : IClassFixture<RouterFixture>, IAsyncLifetime
{
    private readonly RouterFixture _f;
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];
    private TestBackend _app = null!;

    public ResponsePassThroughTests(RouterFixture fixture) => _f = fixture;

    public async Task InitializeAsync() => _app = await TestBackend.StartAsync("pass");

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<string> RouteAsync(string name, string address)
    {
        var host = $"{name}-{_id}.localhost";
        await _f.SetHostAsync(host, $"{name}-{_id}");
        await _f.SetRouteAsync($"{name}-{_id}-web-0", $"{name}-{_id}", address);
        await _f.WaitForEndpointsAsync(host, 1);
        return host;
    }

    [Fact]
    public async Task ServerSentEventsReachTheClientWhileTheAppIsStillSending()
    {
        var host = await RouteAsync("events", _app.Address);

        using var request = _f.Request(HttpMethod.Get, host, "/events");
        using var response = await _f.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        // The app holds the second event back until the first has arrived here: a router that buffered the
        // response would never deliver the first, and this read would time out.
        var first = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("data: one", first);
        _app.ReleaseEvents();
        Assert.Equal("", await reader.ReadLineAsync());
        Assert.Equal("data: two", await reader.ReadLineAsync());
        Assert.Equal("", await reader.ReadLineAsync());
        Assert.Null(await reader.ReadLineAsync());
    }

    [Fact]
    public async Task AClientThatLeavesAStreamClosesTheAppsSideToo()
    {
        var host = await RouteAsync("leaving", _app.Address);

        using (var client = new HttpClient(LoopbackHandler()))
        {
            using var request = _f.Request(HttpMethod.Get, host, "/events");
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.Equal("data: one", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        }

        // The app is still holding its stream open; the router must not keep it (and a connection) for nobody.
        await _f.EventuallyAsync(() => Task.FromResult(_app.EventsAbandoned == 1), "the app saw its stream closed");
    }

    [Fact]
    public async Task ALargeBodyArrivesByteForByteAndHeadGetsItsLengthWithoutIt()
    {
        var host = await RouteAsync("big", _app.Address);
        const int size = 3 * 1024 * 1024 + 17;
        var expected = new byte[size];
        for (var i = 0; i < size; i++)
        {
            expected[i] = TestBackend.BigByte(i);
        }

        using (var response = await _f.GetAsync(host, $"/big?bytes={size}"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(size, response.Content.Headers.ContentLength);
            var body = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(SHA256.HashData(expected), SHA256.HashData(body));
        }

        using (var request = _f.Request(HttpMethod.Head, host, $"/big?bytes={size}"))
        using (var response = await _f.Http.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(size, response.Content.Headers.ContentLength);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        }

        // The connection is still good for the next request after a HEAD (no body was waited for).
        using var after = await _f.GetAsync(host, "/");
        Assert.Equal("pass", await after.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(204)]
    [InlineData(304)]
    [InlineData(404)]
    [InlineData(503)]
    public async Task TheAppsOwnStatusPassesThroughWithoutARouterErrorHeader(int code)
    {
        var host = await RouteAsync($"status{code}", _app.Address);
        using var response = await _f.GetAsync(host, $"/status?code={code}");

        Assert.Equal(code, (int)response.StatusCode);
        Assert.False(response.Headers.Contains("X-Paas-Router-Error"));
        Assert.Equal("pass", response.Headers.GetValues("X-Backend").Single());
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AKeepAliveConnectionTheAppDroppedIsReplacedWithoutAFailedRequest()
    {
        await using var dropping = new DroppingBackend();
        var host = await RouteAsync("dropping", dropping.Address);

        for (var i = 0; i < 20; i++)
        {
            using var response = await _f.GetAsync(host);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("dropped", await response.Content.ReadAsStringAsync());
            // Long enough for the app's close to land, so the router's next request meets a dead connection.
            await Task.Delay(80);
        }

        // Every request needed a new connection, and none of them failed for it.
        Assert.True(dropping.Connections >= 20, $"{dropping.Connections} connections for 20 requests");
    }
}
