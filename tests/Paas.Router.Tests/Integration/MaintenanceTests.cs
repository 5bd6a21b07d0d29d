using System.Net;
using static Paas.Router.Tests.Integration.RouterFixture;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// An app in maintenance (<c>paas maintenance:on</c>): both front ends answer every request with the
/// maintenance page, 503 and Retry-After, without reaching the app, whose instance stays routed; off, it
/// is served again.
/// </summary>
public sealed class MaintenanceTests(MaintenanceTests.Routers routers) : IClassFixture<MaintenanceTests.Routers>
{
    [Fact]
    public async Task MaintenanceOn_BothFrontEndsAnswer503WithRetryAfter_AndOffServesTheAppAgain()
    {
        var f = routers.Fixture;
        foreach (var (name, router) in new[] { ("event-loop", routers.EventLoop), ("kestrel", routers.Kestrel) })
        {
            using var before = await f.GetAsync(routers.Host, "/", router);
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await routers.SetOptionsAsync(new { maintenance = true, timeout_seconds = 30 });
        foreach (var (name, router) in new[] { ("event-loop", routers.EventLoop), ("kestrel", routers.Kestrel) })
        {
            await f.EventuallyAsync(async () =>
            {
                using var response = await f.GetAsync(routers.Host, "/", router);
                return response.StatusCode == HttpStatusCode.ServiceUnavailable;
            }, $"503 from the {name} front end");
            var hits = routers.Backend.Hits;
            foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post, HttpMethod.Head })
            {
                using var request = f.Request(method, routers.Host, "/any/path?x=1", router);
                using var response = await f.Http.SendAsync(request);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.Equal("60", Header(response, "Retry-After"));
                Assert.Equal("maintenance", Header(response, "X-Paas-Router-Error"));
                if (method != HttpMethod.Head)
                    Assert.Contains("maintenance", await response.Content.ReadAsStringAsync());
            }
            Assert.Equal(hits, routers.Backend.Hits);
            // The instance is still in the table: only the answer changed.
            await f.WaitForEndpointsAsync(routers.Host, 1, router);
        }

        await routers.SetOptionsAsync(new { timeout_seconds = 30 });
        foreach (var (name, router) in new[] { ("event-loop", routers.EventLoop), ("kestrel", routers.Kestrel) })
        {
            await f.EventuallyAsync(async () =>
            {
                using var response = await f.GetAsync(routers.Host, "/", router);
                return response.StatusCode == HttpStatusCode.OK;
            }, $"200 again from the {name} front end");
        }
    }

    [Fact]
    public async Task MaintenanceOn_AnAppWithNoInstance_GetsTheMaintenancePage_NotNoEndpoints()
    {
        var f = routers.Fixture;
        var host = $"idle-{Guid.NewGuid():N}"[..13] + ".localhost";
        var app = host.Split('.')[0];
        await f.SetHostAsync(host, app);
        await f.SetOptionsAsync(app, new { maintenance = true });

        foreach (var (name, router) in new[] { ("event-loop", routers.EventLoop), ("kestrel", routers.Kestrel) })
        {
            await f.EventuallyAsync(async () =>
            {
                using var response = await f.GetAsync(host, "/", router);
                return Header(response, "X-Paas-Router-Error") == "maintenance";
            }, $"the maintenance page from the {name} front end");
            using var page = await f.GetAsync(host, "/", router);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
            Assert.Equal("60", Header(page, "Retry-After"));
        }
    }

    /// <summary>Both front ends in front of the test app, whose hit count tells whether a request reached it.</summary>
    public sealed class Routers : FrontEndPair
    {
        internal TestBackend Backend { get; private set; } = null!;

        protected override async Task<(string Address, IAsyncDisposable Stop)> StartAppAsync()
        {
            Backend = await TestBackend.StartAsync("maintenance");
            return (Backend.Address, Backend);
        }
    }
}
