using System.Net;
using System.Text.Json;

namespace Paas.Router.Tests.Integration;

/// <summary>The router must come up and answer even when Redis is not there at all.</summary>
public sealed class RouterWithoutRedisTests
{
    [Fact]
    public async Task StartsAndServesWhileRedisIsDown()
    {
        var nowhere = $"127.0.0.1:{RouterProcess.FreePort()}";
        await using var router = await RouterProcess.StartAsync(nowhere, $"test-{Guid.NewGuid():N}:");
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

        Assert.Equal("ok", await http.GetStringAsync(new Uri(router.AdminUrl, "healthz")));

        using var request = new HttpRequestMessage(HttpMethod.Get, router.PublicUrl);
        request.Headers.Host = "hello.localhost";
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("unknown_route", response.Headers.GetValues("X-Paas-Router-Error").Single());

        using var routes = JsonDocument.Parse(await http.GetStringAsync(new Uri(router.AdminUrl, "routes")));
        Assert.Equal(0, routes.RootElement.GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task AdminEndpointsAreNotOnThePublicPort()
    {
        var nowhere = $"127.0.0.1:{RouterProcess.FreePort()}";
        await using var router = await RouterProcess.StartAsync(nowhere, $"test-{Guid.NewGuid():N}:");
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(router.PublicUrl, "routes"));
        request.Headers.Host = $"127.0.0.1:{router.AdminPort}";
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("unknown_route", response.Headers.GetValues("X-Paas-Router-Error").Single());
    }
}
