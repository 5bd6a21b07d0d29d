using System.Diagnostics;
using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// `paas metrics` on a real platform: requests through the real router and the instance's memory from the real
/// engine reach the controller's history (through Redis) and are shown; before any traffic it says so.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class MetricsTests(PlatformFixture platform)
{
    [Fact]
    public async Task Metrics_AfterABurstThroughTheRouter_ShowRequestsLatencyAndMemory()
    {
        var app = await AppUnderTest.PushedAsync(platform, "metrics", "static");
        var before = AppUnderTest.Must(await app.PaasAsync("metrics"));
        Assert.Contains("no traffic yet", before.Stdout);

        const int burst = 25;
        for (var i = 0; i < burst; i++)
            Assert.StartsWith("200 ", await app.GetAsync());

        // Router and cell publish every 2 s, the controller reads every 2 s: bounded wait, not a sleep.
        var clock = Stopwatch.StartNew();
        JsonElement summary = default;
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            var json = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("metrics", "--json")).Stdout).RootElement;
            summary = json.GetProperty("summary");
            if (summary.ValueKind == JsonValueKind.Object && summary.GetProperty("requests").GetInt64() >= burst
                && summary.GetProperty("processes").ValueKind == JsonValueKind.Object)
                break;
            await Task.Delay(500);
        }
        Assert.Equal(JsonValueKind.Object, summary.ValueKind);
        Assert.Equal(burst, summary.GetProperty("requests").GetInt64());
        Assert.Equal(burst, summary.GetProperty("by_status").GetProperty("2xx").GetInt64());
        Assert.Equal(0, summary.GetProperty("error_rate_5xx").GetDouble());
        Assert.InRange(summary.GetProperty("p50_ms").GetDouble(), 0.001, 5000);
        var web = summary.GetProperty("processes").GetProperty("web");
        Assert.Equal(1, web.GetProperty("instances").GetInt32());
        Assert.True(web.GetProperty("memory_bytes").GetInt64() > 0, "the engine's memory sample is shown");

        var shown = AppUnderTest.Must(await app.PaasAsync("metrics"));
        Assert.Contains("req/s", shown.Stdout);
        Assert.Contains("p50", shown.Stdout);
        Assert.Contains("5xx rate:  0%", shown.Stdout);
        Assert.Matches(@"web\s+1\s", shown.Stdout);
    }
}
