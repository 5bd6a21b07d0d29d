using Microsoft.Playwright;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// One headless chromium for the dashboard tests: Debian's /usr/bin/chromium driven by Playwright, never a
/// downloaded browser. Each test opens its own context (its own cookies), so sessions do not leak between tests.
/// Screenshots go to the test output folder (dashboard-screenshots/), where a person can look at them.
/// </summary>
public sealed class DashboardBrowser : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";
    public static string Screenshots { get; } = Path.Combine(AppContext.BaseDirectory, "dashboard-screenshots");

    private IPlaywright? _playwright;
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
            throw new InvalidOperationException($"The dashboard tests drive Debian's chromium at {Chromium}: install the package chromium (`make test` does, through deploy/setup.sh).");
        Directory.CreateDirectory(Screenshots);
        _playwright = await Playwright.CreateAsync();
        // As root chromium refuses its sandbox; the pages it opens are our own dashboard.
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    public async Task<IPage> NewPageAsync(string baseUrl, int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });

    public async Task DisposeAsync()
    {
        if (Browser is not null)
            await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}
