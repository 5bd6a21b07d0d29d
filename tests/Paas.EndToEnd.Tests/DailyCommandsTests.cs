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

    [Fact]
    public async Task ReleasesOutput_ShowsWhatThePushPrinted_ForTheCurrentAndANamedRelease()
    {
        var app = await AppUnderTest.PushedAsync(platform, "output", "python");
        var current = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("releases", "--json")).Stdout).RootElement[0].GetProperty("version").GetInt32();

        var output = AppUnderTest.Must(await app.PaasAsync("releases:output"));

        Assert.Contains("-----> Building " + app.Name, output.Stdout);
        Assert.Contains($"-----> Released v{current}", output.Stdout);
        Assert.Equal(output.Stdout, AppUnderTest.Must(await app.PaasAsync("releases:output", $"v{current}")).Stdout);
        var initial = await app.PaasAsync("releases:output", "v1");
        Assert.NotEqual(0, initial.ExitCode);
        Assert.Contains("has no build output", initial.Stderr);
    }

    [Fact]
    public async Task ConfigEdit_AppliesTheEditorsChangesAsOneRelease_AndUnchangedMakesNone()
    {
        var app = await AppUnderTest.PushedAsync(platform, "edit", "envecho");
        AppUnderTest.Must(await app.PaasAsync("config:set", "GREETING=hello", "SECRET_KEY=doomed"));
        var editor = Path.Combine(platform.DataDirectory, $"editor-{app.Name}.sh");
        // What a user does in the editor: change one var, remove one, add one.
        await File.WriteAllTextAsync(editor, "#!/bin/sh\nsed -i -e 's/^GREETING=.*/GREETING=edited/' -e '/^SECRET_KEY=/d' \"$1\"\necho ADDED=new >> \"$1\"\n");
        File.SetUnixFileMode(editor, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        int Releases() => JsonDocument.Parse(AppUnderTest.Must(platform.PaasAsync(app.WorkTree, "releases", "--json", "-a", app.Name).Result).Stdout).RootElement.GetArrayLength();
        Task<ProcessResult> EditWith(string command)
        {
            var environment = platform.ClientEnvironment();
            environment["EDITOR"] = command;
            return ProcessRunner.RunAsync("dotnet", [RepoPaths.Dll("src/Paas.Cli", "paas"), "config:edit", "-a", app.Name], app.WorkTree, environment, TimeSpan.FromMinutes(2));
        }
        var before = Releases();

        var edit = AppUnderTest.Must(await EditWith(editor));

        // The heading is progress (stderr); stdout holds the result.
        Assert.Contains("Setting GREETING, ADDED, unsetting SECRET_KEY", edit.Stderr);
        Assert.Matches(@"done, v\d+: 1 of 1 healthy", edit.Stdout);
        Assert.Equal(before + 1, Releases());
        var served = await app.GetAsync();
        Assert.Contains("GREETING=edited\n", served);
        Assert.Contains("SECRET_KEY=\n", served);
        var config = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("config", "--json")).Stdout).RootElement;
        Assert.Equal("new", config.GetProperty("ADDED").GetString());

        var unchanged = AppUnderTest.Must(await EditWith("true"));
        Assert.Contains("No changes", unchanged.Stdout);
        Assert.Equal(before + 1, Releases());
    }

    [Fact]
    public async Task RunDetached_ReturnsAtOnceWithItsName_AndItsOutputReachesTheLogs()
    {
        var app = await AppUnderTest.PushedAsync(platform, "detach", "python");

        var started = AppUnderTest.Must(await app.PaasAsync("run:detached", "--json", "--", "sh", "-c", "sleep 1; echo detached-hello"));

        var name = JsonDocument.Parse(started.Stdout).RootElement.GetProperty("name").GetString()!;
        Assert.Matches(@"^run\.[0-9]+$", name);
        var logs = "";
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromSeconds(60) && !logs.Contains($"{name} exited with code 0"); await Task.Delay(500))
            logs = AppUnderTest.Must(await app.PaasAsync("logs", "-d", name)).Stdout;
        Assert.Contains("detached-hello", logs);
        Assert.Contains($"{name} exited with code 0", logs);
        var human = AppUnderTest.Must(await app.PaasAsync("run:detached", "--", "true"));
        Assert.Contains($"paas logs -a {app.Name} -d run.", human.Stdout);
    }
}
