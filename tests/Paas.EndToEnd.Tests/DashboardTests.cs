using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Paas.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// The web dashboard in a real browser (Debian's chromium through Playwright) against the shared real platform:
/// logging in, who sees what, the CSRF check, and a deployed app scaled, configured, rolled back, its log tail
/// and charts, all from the page. Screenshots of each page are saved under dashboard-screenshots/.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class DashboardTests(PlatformFixture platform, DashboardBrowser browser, ITestOutputHelper output) : IClassFixture<DashboardBrowser>
{
    private string AdminToken => File.ReadAllText(Path.Combine(platform.DataDirectory, "admin-token")).Trim();

    private async Task<IPage> LoggedInAsync(string token, int width = 1280, int height = 900)
    {
        var page = await browser.NewPageAsync(platform.ApiUrl, width, height);
        await page.GotoAsync("/dashboard/");
        await page.GetByLabel("API token").FillAsync(token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await page.Locator("#who-name").WaitForAsync();
        return page;
    }

    [Fact]
    public async Task Login_ShowsOnlyTheUsersApps_BadTokenIsRefused_ChangesNeedTheCsrfToken()
    {
        var alice = await platform.NewUserAsync("alice");
        var bob = await platform.NewUserAsync("bob");
        var aliceApp = PlatformFixture.UniqueAppName("alice");
        var bobApp = PlatformFixture.UniqueAppName("bob");
        AppUnderTest.Must(await platform.PaasAsAsync(alice, null, "apps:create", aliceApp));
        AppUnderTest.Must(await platform.PaasAsAsync(bob, null, "apps:create", bobApp));

        var refused = await browser.NewPageAsync(platform.ApiUrl);
        await refused.GotoAsync("/dashboard/");
        await refused.GetByLabel("API token").FillAsync("paas_not-a-real-token");
        await refused.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        var alert = refused.GetByRole(AriaRole.Alert);
        await Assertions.Expect(alert).ToContainTextAsync("not valid");
        await DashboardBrowser.ScreenshotAsync(refused, "login-refused");
        Assert.Empty(await refused.Context.CookiesAsync());

        var page = await LoggedInAsync(alice.Token!);
        await Assertions.Expect(page.Locator($"#apps tr[data-app='{aliceApp}']")).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator($"#apps tr[data-app='{bobApp}']").CountAsync());
        Assert.Equal(1, await page.Locator("#apps tbody tr").CountAsync());
        await Assertions.Expect(page.Locator($"#apps tr[data-app='{aliceApp}']")).ToContainTextAsync("not deployed");
        Assert.True(await page.Locator("#nav-cells").IsHiddenAsync(), "a user is not offered the operators' cells page");
        await DashboardBrowser.ScreenshotAsync(page, "apps-user");

        // The session cookie: HttpOnly, SameSite=Strict, and not the token.
        var cookie = Assert.Single(await page.Context.CookiesAsync());
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.DoesNotContain(alice.Token!, cookie.Value);

        // An empty app's page says how to deploy, with its git URL.
        await page.Locator($"#apps a:text-is('{aliceApp}')").ClickAsync();
        await Assertions.Expect(page.Locator("#deploy")).ToContainTextAsync("git remote add paas ");
        await Assertions.Expect(page.Locator("#deploy")).ToContainTextAsync($"/{aliceApp}.git");
        await DashboardBrowser.ScreenshotAsync(page, "app-empty");

        // Another user's app reads as missing, as in the API.
        await page.GotoAsync($"/dashboard/#/apps/{bobApp}");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync($"No app named '{bobApp}' exists.");

        // A change with the cookie but without the CSRF token is refused, and nothing is made; with it, it is made.
        var request = page.Context.APIRequest;
        var forged = await request.PostAsync("/v1/apps", new() { DataObject = new { name = PlatformFixture.UniqueAppName("forged") } });
        Assert.Equal(403, forged.Status);
        Assert.Contains("CSRF", await forged.TextAsync());
        var session = JsonDocument.Parse(await (await request.GetAsync("/dashboard/session")).TextAsync()).RootElement;
        var madeName = PlatformFixture.UniqueAppName("csrf");
        var made = await request.PostAsync("/v1/apps", new()
        {
            DataObject = new { name = madeName },
            Headers = new Dictionary<string, string> { ["X-CSRF-Token"] = session.GetProperty("csrf_token").GetString()! },
        });
        Assert.Equal(201, made.Status);
        var aliceApps = AppUnderTest.Must(await platform.PaasAsAsync(alice, null, "apps", "--json")).Stdout;
        Assert.DoesNotContain("forged-", aliceApps);
        Assert.Contains(madeName, aliceApps);

        // Logging out ends the session: the API no longer answers to the cookie.
        await page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("API token")).ToBeVisibleAsync();
        Assert.Equal(401, (await request.GetAsync("/v1/apps")).Status);
    }

    [Fact]
    public async Task DeployedApp_ScaleConfigRollbackLogsAndCharts_FromThePage()
    {
        var app = await AppUnderTest.PushedAsync(platform, "dash", "python");
        var page = await LoggedInAsync(AdminToken);
        await page.GotoAsync($"/dashboard/#/apps/{app.Name}");
        await Assertions.Expect(page.Locator("#instances tr[data-state='running']")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#log-lines")).ToHaveAttributeAsync("data-connected", "true");

        // The log tail shows a line the app prints within 2 s.
        var marker = "dash-" + Guid.NewGuid().ToString("N")[..8];
        using (var printed = await platform.GetThroughRouterAsync(PlatformFixture.AppHost(app.Name), $"/log?msg={marker}"))
            Assert.Equal(200, (int)printed.StatusCode);
        var clock = Stopwatch.StartNew();
        await page.Locator("#log-lines li", new() { HasText = marker }).WaitForAsync(new() { Timeout = 5000 });
        var logDelay = clock.Elapsed;
        output.WriteLine($"log line shown in the page {logDelay.TotalMilliseconds:0} ms after the app printed it");
        Assert.True(logDelay < TimeSpan.FromSeconds(2), $"The line took {logDelay.TotalMilliseconds:0} ms to reach the page.");

        // Charts show traffic after a bounded burst.
        const int burst = 30;
        for (var i = 0; i < burst; i++)
            Assert.StartsWith("200 ", await app.GetAsync());
        await page.WaitForFunctionAsync($"() => Number(document.querySelector('#metrics-summary')?.dataset.requests ?? 0) >= {burst + 1}",
            null, new() { Timeout = 30_000, PollingInterval = 250 });
        await Assertions.Expect(page.Locator("#chart-requests svg polyline, #chart-requests svg circle").First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#chart-latency svg")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#chart-memory svg")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await DashboardBrowser.ScreenshotAsync(page, "app-charts");

        // Scale web to 2 from the form: both instances appear, live (no reload).
        await page.GetByLabel("web instances").FillAsync("2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Scale" }).ClickAsync();
        await Assertions.Expect(page.Locator("#instances tr[data-state='running']")).ToHaveCountAsync(2, new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#instances tr[data-instance='web.2']")).ToBeVisibleAsync();
        await DashboardBrowser.ScreenshotAsync(page, "app-scaled");

        // A config var makes a new release, shown as it rolls out and in the releases list.
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("DASH_GREETING");
        await page.GetByLabel("Value", new() { Exact = true }).FillAsync("hello from the dashboard");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add", Exact = true }).First.ClickAsync();
        await Assertions.Expect(page.Locator("#config-status")).ToContainTextAsync("done, v3", new() { Timeout = 120_000 });
        await Assertions.Expect(page.Locator("#releases-table tr[data-version='3']")).ToContainTextAsync("DASH_GREETING");
        await Assertions.Expect(page.Locator("#releases-table tr[data-version='3']")).ToContainTextAsync("current");
        await Assertions.Expect(page.Locator("#config-table tr[data-var='DASH_GREETING'] input")).ToHaveValueAsync("hello from the dashboard");
        await DashboardBrowser.ScreenshotAsync(page, "app-config");

        // Roll back to v2 (the push; v1 is the app's Initial release, v3 the config change) from the releases list, after a confirmation.
        await page.Locator("#releases-table tr[data-version='2']").GetByRole(AriaRole.Button).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Assertions.Expect(dialog).ToContainTextAsync("Roll");
        await DashboardBrowser.ScreenshotAsync(page, "app-rollback-confirm");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Roll back to v2" }).ClickAsync();
        await Assertions.Expect(page.Locator("#releases-table tr[data-version='4']")).ToContainTextAsync("Rollback to v2", new() { Timeout = 120_000 });
        await Assertions.Expect(page.Locator("#releases-table tr[data-version='4']")).ToContainTextAsync("current");
        var config = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("config", "--json")).Stdout).RootElement;
        Assert.False(config.TryGetProperty("DASH_GREETING", out _), "the rollback restored v2's config");
        await Assertions.Expect(page.Locator("#events-list")).ToContainTextAsync("Rollback");
        await DashboardBrowser.ScreenshotAsync(page, "app-rolled-back");

        // A phone-sized window gets the one-column layout.
        var phone = await LoggedInAsync(AdminToken, 390, 844);
        await phone.GotoAsync($"/dashboard/#/apps/{app.Name}");
        await Assertions.Expect(phone.Locator("#instances tr[data-state='running']")).ToHaveCountAsync(2, new() { Timeout = 30_000 });
        await DashboardBrowser.ScreenshotAsync(phone, "app-phone");
        Assert.True(await phone.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), "no sideways scrolling on a phone");
    }

    [Fact]
    public async Task Operator_SeesCellsWithCapacity_AndTheAppsListOf200AppsLoads()
    {
        var page = await LoggedInAsync(AdminToken);
        await Assertions.Expect(page.Locator("#apps")).ToBeVisibleAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await DashboardBrowser.ScreenshotAsync(page, "apps-operator");
        await page.GetByRole(AriaRole.Link, new() { Name = "Cells" }).ClickAsync();
        await Assertions.Expect(page.Locator("#cells [data-cell]")).ToHaveCountAsync(PlatformFixture.CellLayout.Count);
        foreach (var (name, _, _) in PlatformFixture.CellLayout)
        {
            var cell = page.Locator($"#cells [data-cell='{name}']");
            await Assertions.Expect(cell).ToContainTextAsync("live");
            await Assertions.Expect(cell.Locator("meter")).ToBeVisibleAsync();
            await Assertions.Expect(cell).ToContainTextAsync("instance");
        }
        await DashboardBrowser.ScreenshotAsync(page, "cells");

        // A user with 200 apps (made through the API: cheap) opens the apps list: its first load is printed, not asserted.
        var carol = await platform.NewUserAsync("carol");
        using (var http = new HttpClient { BaseAddress = new Uri(platform.ApiUrl) })
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", carol.Token);
            var stem = Guid.NewGuid().ToString("N")[..6];
            for (var i = 0; i < 200; i++)
                (await http.PostAsJsonAsync("/v1/apps", new { name = $"many-{stem}-{i:000}" })).EnsureSuccessStatusCode();
        }
        var loggedIn = await LoggedInAsync(carol.Token!);
        // A fresh tab of the logged-in browser: the whole page (HTML, script, session, list) is loaded and timed.
        var many = await loggedIn.Context.NewPageAsync();
        var clock = Stopwatch.StartNew();
        await many.GotoAsync("/dashboard/#/apps");
        await Assertions.Expect(many.Locator("#apps tbody tr")).ToHaveCountAsync(200, new() { Timeout = 30_000 });
        var loaded = clock.Elapsed;
        var inPage = await many.Locator("main").GetAttributeAsync("data-load-ms");
        var line = $"dashboard apps list with 200 apps: first page load {loaded.TotalMilliseconds:0} ms (navigation to 200 rows; list fetch and render in the page {inPage} ms)";
        output.WriteLine(line);
        Console.WriteLine(line);
        await File.WriteAllTextAsync(Path.Combine(DashboardBrowser.Screenshots, "apps-200-load.txt"), line + "\n");
        await DashboardBrowser.ScreenshotAsync(many, "apps-200");
    }
}
