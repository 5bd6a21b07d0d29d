using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>Config vars make releases, releases can be rolled back, and a bad change leaves the app as it was.</summary>
[Collection(PlatformCollection.Name)]
public sealed class ConfigAndReleaseTests(PlatformFixture platform)
{
    [Fact]
    public async Task ConfigSet_MakesANewRelease_TheAppSeesTheValue_AndUnsetRemovesIt()
    {
        var app = await AppUnderTest.PushedAsync(platform, "config", "envecho");

        var set = await app.PaasAsync("config:set", "GREETING=hello from config", "EXTRA=1");
        var servedAfterSet = await app.GetAsync();
        var get = await app.PaasAsync("config:get", "GREETING");
        var unset = await app.PaasAsync("config:unset", "GREETING");
        var servedAfterUnset = await app.GetAsync();
        var releases = AppUnderTest.Must(await app.PaasAsync("releases"));

        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Contains("done, v3", set.Stdout);
        Assert.Contains("GREETING=hello from config", servedAfterSet);
        Assert.Equal("hello from config", get.Stdout.Trim());
        Assert.Contains("done, v4", unset.Stdout);
        Assert.Contains("GREETING=\n", servedAfterUnset);
        Assert.Contains("Set GREETING, EXTRA config vars", releases.Stdout);
        Assert.Contains("Remove GREETING config var", releases.Stdout);
        var config = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("config", "--json")).Stdout).RootElement;
        Assert.False(config.TryGetProperty("GREETING", out _));
        Assert.Equal("1", config.GetProperty("EXTRA").GetString());
    }

    [Fact]
    public async Task Rollback_ServesThePreviousCodeAndConfig_AsANewRelease()
    {
        var app = await AppUnderTest.PushedAsync(platform, "rollback", "static");
        AppUnderTest.Must(await app.PaasAsync("config:set", "MARKER=one"));
        await File.WriteAllTextAsync(Path.Combine(app.WorkTree, "index.html"), "<h1>Hello from static v2</h1>\n");
        await platform.CommitAllAsync(app.WorkTree, "v2 page");
        AppUnderTest.Must(await platform.GitAsync(app.WorkTree, "push", "paas", "main"));
        AppUnderTest.Must(await app.PaasAsync("config:set", "MARKER=two"));
        var beforeRollback = await app.GetAsync();

        // v1 is the app's "Initial release", v2 its first push, v3 MARKER=one.
        var rollback = await app.PaasAsync("releases:rollback", "v3");
        var afterRollback = await app.GetAsync();
        var releases = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("releases", "--json")).Stdout).RootElement;
        var config = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("config", "--json")).Stdout).RootElement;
        var info = AppUnderTest.Must(await app.PaasAsync("releases:info", "v6"));

        Assert.Contains("static v2", beforeRollback);
        Assert.True(rollback.ExitCode == 0, rollback.ToString());
        Assert.Contains("done, v6", rollback.Stdout);
        Assert.Contains("static v1", afterRollback);
        Assert.Equal(6, releases[0].GetProperty("version").GetInt32());
        Assert.Equal("Rollback to v3", releases[0].GetProperty("description").GetString());
        Assert.True(releases[0].GetProperty("current").GetBoolean());
        Assert.Equal("one", config.GetProperty("MARKER").GetString());
        Assert.Contains("MARKER: one", info.Stdout);
        var instances = await app.InstancesAsync();
        Assert.NotEmpty(instances);
        Assert.All(instances, i => Assert.Equal(6, i.GetProperty("release").GetInt32()));
    }

    [Fact]
    public async Task BadConfigAndBadRollbacks_AreRefused_AndNothingChanges()
    {
        var app = await AppUnderTest.PushedAsync(platform, "badcfg", "envecho");

        var badName = await app.PaasAsync("config:set", "1BAD=x");
        var reserved = await app.PaasAsync("config:set", "PORT=80");
        var notPair = await app.PaasAsync("config:set", "JUSTANAME");
        var noSuchRelease = await app.PaasAsync("releases:rollback", "v42");
        var current = await app.PaasAsync("releases:rollback", "v2");
        var initial = await app.PaasAsync("releases:rollback", "v1");
        var notAVersion = await app.PaasAsync("releases:rollback", "latest");

        foreach (var refused in new[] { badName, reserved, notPair, noSuchRelease, current, initial, notAVersion })
        {
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Single(refused.Stderr.Trim().Split('\n'));
        }
        Assert.Contains("not a valid config var name", badName.Stderr);
        Assert.Contains("set by the platform", reserved.Stderr);
        Assert.Contains("has no release v42", noSuchRelease.Stderr);
        Assert.Contains("already the current release", current.Stderr);
        Assert.Contains("has no build to run", initial.Stderr);
        var releases = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("releases", "--json")).Stdout).RootElement;
        Assert.Equal(2, releases.GetArrayLength());
        Assert.StartsWith("200", await app.GetAsync());
    }

    [Fact]
    public async Task AConfigChangeThatStopsTheAppStarting_IsRefused_AndTheOldReleaseKeepsServing()
    {
        var workTree = await platform.NewWorkTreeAsync("envecho");
        await File.WriteAllTextAsync(Path.Combine(workTree, "Procfile"), "web: if [ -n \"$CRASH_ON_START\" ]; then exit 3; fi; exec python3 server.py\n");
        await platform.CommitAllAsync(workTree, "crash switch");
        var name = PlatformFixture.UniqueAppName("cfgcrash");
        AppUnderTest.Must(await platform.PaasAsync(workTree, "apps:create", name));
        AppUnderTest.Must(await platform.PaasAsync(workTree, "git:remote", name));
        AppUnderTest.Must(await platform.GitAsync(workTree, "push", "paas", "main"));
        var app = new AppUnderTest(platform, name, workTree);

        var crash = await app.PaasAsync("config:set", "CRASH_ON_START=1");

        Assert.NotEqual(0, crash.ExitCode);
        Assert.Contains("nothing changed", crash.Stderr);
        Assert.StartsWith("200", await app.GetAsync());
        var config = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("config", "--json")).Stdout).RootElement;
        Assert.False(config.TryGetProperty("CRASH_ON_START", out _));
        // The initial release and the push; the change is listed beside it as the deploy that was rolled back, with its reason.
        var releases = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("releases", "--json")).Stdout).RootElement;
        Assert.Equal([(3, "rolled back", false), (2, "released", true), (1, "released", false)],
            releases.EnumerateArray().Select(r => (r.GetProperty("version").GetInt32(), r.GetProperty("status").GetString(), r.GetProperty("current").GetBoolean())));
        Assert.Contains("CRASH_ON_START", releases[0].GetProperty("description").GetString());
        Assert.NotEmpty(releases[0].GetProperty("status_reason").GetString()!);
        var instances = await app.InstancesAsync();
        Assert.NotEmpty(instances);
        Assert.All(instances, i => Assert.Equal(2, i.GetProperty("release").GetInt32()));
    }
}
