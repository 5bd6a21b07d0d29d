using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;
using StackExchange.Redis;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// `paas routes:set` and `paas maintenance:*` on a pushed app, seen through the real router: the options
/// go from the CLI through the API and the state store to Redis and the router.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class RoutingTests(PlatformFixture platform)
{
    [Fact]
    public async Task RoutesSetTimeout_MakesASlowRequest504_WhileAQuickOneIsServed_AndMaintenanceAnswers503UntilOff()
    {
        var app = await AppUnderTest.PushedAsync(platform, "routing", "python");
        var host = PlatformFixture.AppHost(app.Name);
        using (var slow = await platform.GetThroughRouterAsync(host, "/slow?ms=2500"))
            Assert.Equal(HttpStatusCode.OK, slow.StatusCode); // the router's default timeout is longer

        var set = await app.PaasAsync("routes:set", "--timeout", "1", "--sticky-cookie", "SID", "--json");

        Assert.True(set.ExitCode == 0, set.ToString());
        var shown = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("routes", "--json")).Stdout).RootElement;
        Assert.Equal(1, shown.GetProperty("timeout_seconds").GetDouble());
        Assert.Equal("SID", shown.GetProperty("sticky_cookie").GetString());
        var clock = Stopwatch.StartNew();
        using (var slow = await platform.GetThroughRouterAsync(host, "/slow?ms=2500"))
        {
            Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);
            Assert.Equal("timeout", string.Join(",", slow.Headers.GetValues("X-Paas-Router-Error")));
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2.4), $"the 504 took {clock.Elapsed}");
        Assert.StartsWith("200 Hello from python", await app.GetAsync());

        // Redis lost them (flushed, restarted empty): the next convergence pass publishes them again from the store.
        using (var redis = await ConnectionMultiplexer.ConnectAsync(PlatformFixture.Redis))
        {
            var hash = platform.RedisPrefix + "app-options";
            Assert.True(await redis.GetDatabase().HashDeleteAsync(hash, app.Name));
            var republished = RedisValue.Null;
            for (var i = 0; i < 100 && republished.IsNull; i++)
            {
                await Task.Delay(100);
                republished = await redis.GetDatabase().HashGetAsync(hash, app.Name);
            }
            Assert.False(republished.IsNull, "the routing options were not published again within 10 s");
            Assert.Equal(1, JsonDocument.Parse(republished.ToString()).RootElement.GetProperty("timeout_seconds").GetDouble());
        }

        // Bad input changes nothing.
        var bad = await app.PaasAsync("routes:set", "--timeout", "0");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("between 1 and 3600 seconds", bad.Stderr);
        Assert.Equal(1, JsonDocument.Parse((await app.PaasAsync("routes", "--json")).Stdout).RootElement.GetProperty("timeout_seconds").GetDouble());

        var on = await app.PaasAsync("maintenance:on");

        Assert.True(on.ExitCode == 0, on.ToString());
        Assert.Equal("on", (await app.PaasAsync("maintenance")).Stdout.Trim());
        // The command returns once the router applied it: the next request gets the page.
        using (var response = await platform.GetThroughRouterAsync(host))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("60", response.Headers.RetryAfter?.ToString());
            Assert.Contains("maintenance", await response.Content.ReadAsStringAsync());
        }
        var instances = await app.InstancesAsync();
        Assert.Equal("running", Assert.Single(instances).GetProperty("state").GetString());

        var off = await app.PaasAsync("maintenance:off");

        Assert.True(off.ExitCode == 0, off.ToString());
        Assert.StartsWith("200 Hello from python", await app.GetAsync());
        Assert.Equal(instances[0].GetProperty("instance").GetString(), Assert.Single(await app.InstancesAsync()).GetProperty("instance").GetString());

        // Destroyed, the app leaves no options behind for a later app of the same name.
        AppUnderTest.Must(await app.PaasAsync("apps:destroy", "--confirm", app.Name));
        using var after = await ConnectionMultiplexer.ConnectAsync(PlatformFixture.Redis);
        Assert.False(await after.GetDatabase().HashExistsAsync(platform.RedisPrefix + "app-options", app.Name));
    }
}
