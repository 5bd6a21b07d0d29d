using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Paas.Core.Routing;
using StackExchange.Redis;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// A router that starts (or is restarted by its supervisor) while apps are routed must not answer for
/// them before it has loaded its table: make chaos saw 23 requests answered 404 unknown_route right after
/// a router SIGKILL, for an app that was serving throughout.
/// </summary>
public sealed class RouterStartTests
{
    [Fact]
    public async Task TheFirstRequestsAStartingRouterAnswersAreServedFromTheLoadedTable()
    {
        var prefix = $"test-{Guid.NewGuid():N}:";
        await using var backend = await TestBackend.StartAsync("served");
        await using var redis = await ConnectionMultiplexer.ConnectAsync(RedisTestEnvironment.Configuration + ",connectTimeout=3000");
        try
        {
            var routes = new RouteWriter(redis, new RouteKeys(prefix));
            await routes.SetHostAsync("start.localhost", "start");
            await routes.SetRouteAsync("start-web-1",
                JsonSerializer.Serialize(new { instance = "start-web-1", app = "start", process = "web", release = 1, address = backend.Address }));

            await using var router = await RouterProcess.StartAsync(RedisTestEnvironment.Configuration, prefix, waitUntilHealthy: false);
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(15) };

            // Ask from the moment the process starts until the public port answers at all: the first
            // answer, and the ones right after it, must come from the loaded table.
            var answers = new List<HttpStatusCode>();
            var clock = Stopwatch.StartNew();
            while (answers.Count < 5 && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, router.PublicUrl);
                    request.Headers.Host = "start.localhost";
                    using var response = await http.SendAsync(request);
                    answers.Add(response.StatusCode);
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(10); // not listening yet
                }
            }

            Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 5), answers);
        }
        finally
        {
            await redis.GetDatabase().KeyDeleteAsync([prefix + "hosts", prefix + "routes", prefix + "routes:version"]);
        }
    }
}
