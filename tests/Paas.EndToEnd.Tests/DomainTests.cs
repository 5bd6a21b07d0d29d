using System.Net;
using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>Custom domains: the router serves an app on them until they are removed or the app is destroyed.</summary>
[Collection(PlatformCollection.Name)]
public sealed class DomainTests(PlatformFixture platform)
{
    /// <summary>Route changes reach the router asynchronously: poll (bounded) until the host answers with the status.</summary>
    private async Task<HttpStatusCode> WaitForStatusAsync(string host, HttpStatusCode expected)
    {
        var status = HttpStatusCode.RequestTimeout;
        for (var i = 0; i < 100 && status != expected; i++)
        {
            if (i > 0)
                await Task.Delay(50);
            using var response = await platform.GetThroughRouterAsync(host);
            status = response.StatusCode;
        }
        return status;
    }

    [Fact]
    public async Task AddedDomain_IsServedByTheRouter_UntilRemovedOrTheAppIsDestroyed()
    {
        var app = await AppUnderTest.PushedAsync(platform, "dom", "python");
        var suffix = app.Name[^6..];
        var www = $"www.shop-{suffix}.example.com";
        var wildcard = $"*.api-{suffix}.example.com";

        var added = await app.PaasAsync("domains:add", www.ToUpperInvariant());
        var addedWildcard = await app.PaasAsync("domains:add", wildcard, "--json");

        Assert.True(added.ExitCode == 0, added.ToString());
        Assert.Contains($"Adding {www} to {app.Name}... done", added.Stdout);
        Assert.True(addedWildcard.ExitCode == 0, addedWildcard.ToString());
        Assert.Equal(wildcard, JsonDocument.Parse(addedWildcard.Stdout).RootElement.GetProperty("hostname").GetString());
        Assert.Equal(HttpStatusCode.OK, await WaitForStatusAsync(www, HttpStatusCode.OK));
        using (var response = await platform.GetThroughRouterAsync($"WWW.Shop-{suffix}.example.com:{platform.RouterPort}"))
            Assert.StartsWith("Hello from python", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, await WaitForStatusAsync($"v2.api-{suffix}.example.com", HttpStatusCode.OK));
        // A wildcard covers one label, as in TLS certificates.
        using (var deeper = await platform.GetThroughRouterAsync($"v2.eu.api-{suffix}.example.com"))
            Assert.Equal(HttpStatusCode.NotFound, deeper.StatusCode);
        var listed = AppUnderTest.Must(await app.PaasAsync("domains", "--json"));
        Assert.Equal([wildcard, www], JsonDocument.Parse(listed.Stdout).RootElement.EnumerateArray().Select(d => d.GetProperty("hostname").GetString()));
        Assert.Contains(www, AppUnderTest.Must(await app.PaasAsync("domains")).Stdout);

        var removed = await app.PaasAsync("domains:remove", www);

        Assert.True(removed.ExitCode == 0, removed.ToString());
        Assert.Equal(HttpStatusCode.NotFound, await WaitForStatusAsync(www, HttpStatusCode.NotFound));
        Assert.StartsWith("200 Hello from python", await app.GetAsync());
        var again = await app.PaasAsync("domains:remove", www);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains($"{www} is not a domain of {app.Name}.", again.Stderr);

        AppUnderTest.Must(await app.PaasAsync("apps:destroy", "--confirm", app.Name));

        Assert.Equal(HttpStatusCode.NotFound, await WaitForStatusAsync($"v2.eu.api-{suffix}.example.com", HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task DomainsAdd_RefusesBadHostnames_PlatformHosts_AndAnotherAppsDomain()
    {
        var first = PlatformFixture.UniqueAppName("doma");
        var second = PlatformFixture.UniqueAppName("domb");
        AppUnderTest.Must(await platform.PaasAsync(null, "apps:create", first));
        AppUnderTest.Must(await platform.PaasAsync(null, "apps:create", second));
        var host = $"shared-{first[^6..]}.example.org";

        var bad = await platform.PaasAsync(null, "domains:add", "bad_name.example.com", "-a", first);
        var platformHost = await platform.PaasAsync(null, "domains:add", $"{second}.localhost", "-a", first);
        var everyApp = await platform.PaasAsync(null, "domains:add", "*.localhost", "-a", first);
        var mine = await platform.PaasAsync(null, "domains:add", host, "-a", first);
        var theirs = await platform.PaasAsync(null, "domains:add", host, "-a", second);
        var none = await platform.PaasAsync(null, "domains", "-a", second);

        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("may contain only letters, digits and inner hyphens", bad.Stderr);
        Assert.Equal(1, platformHost.ExitCode);
        Assert.Contains("is a platform app host under localhost", platformHost.Stderr);
        Assert.Equal(1, everyApp.ExitCode);
        Assert.Contains("would take over every app's own host", everyApp.Stderr);
        Assert.Equal(0, mine.ExitCode);
        Assert.Equal(1, theirs.ExitCode);
        Assert.Contains($"{host} is already a domain of another app.", theirs.Stderr);
        Assert.Contains($"{second} has no custom domains", none.Stdout);

        // Destroying the owner frees the hostname.
        AppUnderTest.Must(await platform.PaasAsync(null, "apps:destroy", "-a", first, "--confirm", first));
        var freed = await platform.PaasAsync(null, "domains:add", host, "-a", second);
        Assert.True(freed.ExitCode == 0, freed.ToString());
    }
}
