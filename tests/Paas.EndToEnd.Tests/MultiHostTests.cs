using System.Diagnostics;
using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// Cells on their own hosts (<see cref="MultiHostPlatform"/>): release images travel through the registry,
/// instances are reached over the network, and a lost host's work is served elsewhere. The other proofs of
/// one fixture live beside this file: routers (MultiHostTests.Routers.cs), a controller restart and the
/// cells' view (MultiHostTests.Cells.cs), credentials (MultiHostTests.Credentials.cs), and a registry that
/// fails (MultiHostTests.Registry.cs).
/// </summary>
[Collection(MultiHostCollection.Name)]
public sealed partial class MultiHostTests(MultiHostPlatform platform, ITestOutputHelper log)
{
    private static bool Running(JsonElement i) => i.GetProperty("state").GetString() == "running";

    private static string CellOf(JsonElement i) => i.GetProperty("cell").GetString()!;

    private async Task<AppUnderTest> SpreadOverThreeHostsAsync(string stem)
    {
        var clock = Stopwatch.StartNew();
        var app = await AppUnderTest.PushedAsync(platform, stem, "static");
        log.WriteLine($"first push: {clock.Elapsed.TotalSeconds:0.0} s");
        clock.Restart();
        AppUnderTest.Must(await app.PaasAsync("ps:scale", "web=3"));
        log.WriteLine($"scale to 3 over three hosts: {clock.Elapsed.TotalSeconds:0.0} s");
        var instances = await app.WaitForInstancesAsync(l => l.Count(Running) == 3, TimeSpan.FromSeconds(60));
        Assert.Equal(3, instances.Count(Running));
        Assert.Equal(MultiHostPlatform.HostLayout.Select(h => h.Name).Order(), instances.Where(Running).Select(CellOf).Order());
        return app;
    }

    [Fact]
    public async Task Push_SpreadsWebOverThreeHosts_EachPullingTheReleaseByDigest_AndAllAnswerThroughTheRouter()
    {
        var app = await SpreadOverThreeHostsAsync("spread");

        var release = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("releases:info", "v2", "--json")).Stdout).RootElement;
        var digest = release.GetProperty("registry_image").GetString()!;
        Assert.StartsWith($"{platform.Registry.LoopbackAddress}/paas/app-{app.Name}@sha256:", digest);
        var instances = await app.InstancesAsync();
        Assert.Equal(MultiHostPlatform.HostLayout.Select(h => h.Name).Order(), instances.Where(Running).Select(CellOf).Order());
        foreach (var (host, _) in MultiHostPlatform.HostLayout)
        {
            var containers = await platform.ContainersOnAsync(host, app.Name);
            var running = Assert.Single(containers, c => c.State == "running");
            // Pulled from the registry by digest, at the address this host reaches it by.
            Assert.Equal(platform.Registry.Address + digest[digest.IndexOf('/')..], running.Image);
            Assert.All(running.Ports.Where(p => p.PublicPort != 0), p => Assert.Equal(platform.Host(host).Address, p.IP));
        }
        var answers = new List<string>();
        for (var i = 0; i < 9; i++)
            answers.Add(await app.GetAsync());
        Assert.All(answers, a => Assert.StartsWith("200 ", a));
        Assert.Contains("Hello from static v1", answers[0]);
    }

    [Fact]
    public async Task LostHost_ItsInstanceServesFromAnotherHost_WithinTenSeconds_WithNoFailedGet_AndItsDuplicateStopsWhenItReturns()
    {
        var app = await SpreadOverThreeHostsAsync("lost");
        const string lost = "h1";

        // The host drops off the network, and its agent with it.
        await platform.Host(lost).SetLinkAsync(up: false);
        platform.KillCell(lost);
        var clock = Stopwatch.StartNew();
        var failures = new List<string>();
        var requests = 0;
        TimeSpan? servedElsewhere = null;
        try
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(30) && requests < 600)
            {
                requests++;
                var answer = await app.GetAsync();
                if (!answer.StartsWith("200 ", StringComparison.Ordinal))
                    failures.Add($"{clock.Elapsed.TotalSeconds:0.0}s {answer[..Math.Min(40, answer.Length)]}");
                if (servedElsewhere is null && requests % 5 == 0)
                {
                    var now = await app.InstancesAsync();
                    if (now.Count(i => Running(i) && CellOf(i) != lost) == 3)
                        servedElsewhere = clock.Elapsed;
                }
                if (servedElsewhere is { } done && clock.Elapsed > done + TimeSpan.FromSeconds(3))
                    break;
            }
        }
        finally
        {
            await platform.Host(lost).SetLinkAsync(up: true);
            await platform.StartCellAsync(lost);
            await platform.WaitForCellsAsync(MultiHostPlatform.HostLayout.Count);
        }
        log.WriteLine($"host lost -> its slot served elsewhere: {servedElsewhere?.TotalSeconds:0.0} s; {requests} GETs, {failures.Count} failed");

        Assert.NotNull(servedElsewhere);
        Assert.True(servedElsewhere < TimeSpan.FromSeconds(10), $"took {servedElsewhere?.TotalSeconds:0.0} s");
        Assert.True(failures.Count == 0, $"{failures.Count} of {requests} GETs failed: {string.Join("; ", failures.Take(10))}");
        // Back on the network, the lost host's old instance is a duplicate of the one that replaced it: it stops.
        var deadline = Stopwatch.StartNew();
        List<JsonElement> after;
        int runningOnLost;
        do
        {
            await Task.Delay(500);
            after = await app.InstancesAsync();
            runningOnLost = (await platform.ContainersOnAsync(lost, app.Name)).Count(c => c.State == "running");
        }
        while ((after.Count(Running) != 3 || runningOnLost != after.Count(i => Running(i) && CellOf(i) == lost)) && deadline.Elapsed < TimeSpan.FromSeconds(30));
        Assert.Equal(after.Count(i => Running(i) && CellOf(i) == lost), runningOnLost);
        Assert.Equal(3, after.Count(Running));
        Assert.StartsWith("200 ", await app.GetAsync());
    }
}
