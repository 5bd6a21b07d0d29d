using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>The everyday commands of issue 24 against the real platform: ps:stop TYPE.N, releases:output, config:edit, run:detached.</summary>
[Collection(PlatformCollection.Name)]
public sealed class DailyCommandsTests(PlatformFixture platform)
{
    private static bool Running(JsonElement i) => i.GetProperty("state").GetString() == "running";

    private static string Id(JsonElement i) => i.GetProperty("id").GetString()!;

    private static string Instance(JsonElement i) => i.GetProperty("instance").GetString()!;

    [Fact]
    public async Task PsStop_OneInstance_StopsIt_TheFormationStays_AndAReplacementServes()
    {
        var app = await AppUnderTest.PushedAsync(platform, "stop1", "python");
        AppUnderTest.Must(await app.PaasAsync("ps:scale", "web=2"));
        var before = (await app.InstancesAsync()).ToDictionary(Id, Instance);

        var stop = AppUnderTest.Must(await app.PaasAsync("ps:stop", "web.2"));

        Assert.Contains("starts a replacement for web.2", stop.Stdout);
        var after = await app.WaitForInstancesAsync(
            l => l.Count(Running) == 2 && l.Any(i => Id(i) == "web.2" && Instance(i) != before["web.2"]) && l.All(i => Instance(i) != before["web.2"]),
            TimeSpan.FromSeconds(30));
        Assert.Equal(before["web.1"], Instance(after.Single(i => Id(i) == "web.1")));
        Assert.Contains("Stopped web.2", (await app.PaasAsync("events")).Stdout);
        Assert.StartsWith("200 Hello from python", await app.GetAsync());
        var noSuch = await app.PaasAsync("ps:stop", "web.7");
        Assert.NotEqual(0, noSuch.ExitCode);
        Assert.Contains("has no running instance web.7", noSuch.Stderr);
    }
}
