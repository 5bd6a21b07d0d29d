using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>`paas apps:rename` against the real platform: git, Docker, Redis and the router (issue 24).</summary>
[Collection(PlatformCollection.Name)]
public sealed class RenameTests(PlatformFixture platform)
{
    private static List<int> Versions(ProcessResult releases) =>
        JsonDocument.Parse(releases.Stdout).RootElement.EnumerateArray().Select(r => r.GetProperty("version").GetInt32()).ToList();

    [Fact]
    public async Task AppsRename_MovesEverything_TheNewHostServes_TheOldIs404_AndPushToTheRenamedRemoteDeploys()
    {
        var old = await AppUnderTest.PushedAsync(platform, "ren", "envecho");
        AppUnderTest.Must(await old.PaasAsync("config:set", "GREETING=before-rename"));
        var releases = Versions(AppUnderTest.Must(await old.PaasAsync("releases", "--json")));
        var renamed = new AppUnderTest(platform, PlatformFixture.UniqueAppName("renamed"), old.WorkTree);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var rename = AppUnderTest.Must(await platform.PaasAsync(old.WorkTree, "apps:rename", renamed.Name, "-a", old.Name));

        var took = clock.Elapsed;
        Assert.Contains($"Renaming {old.Name} to {renamed.Name}... done", rename.Stdout);
        Assert.Contains("Git remote paas updated", rename.Stdout);
        Assert.EndsWith($"/{renamed.Name}.git", AppUnderTest.Must(await platform.GitAsync(old.WorkTree, "remote", "get-url", "paas")).Stdout.Trim());
        var served = await renamed.GetAsync();
        Assert.StartsWith("200 ", served);
        Assert.Contains("GREETING=before-rename\n", served);
        Assert.StartsWith("404 ", await old.GetAsync());
        Assert.Equal(releases, Versions(AppUnderTest.Must(await renamed.PaasAsync("releases", "--json"))));
        Assert.Equal("before-rename", JsonDocument.Parse(AppUnderTest.Must(await renamed.PaasAsync("config", "--json")).Stdout).RootElement.GetProperty("GREETING").GetString());
        // The instances were replaced under the new name (their labels carry it); the old name has none left.
        var instances = await renamed.InstancesAsync();
        Assert.Single(instances, i => i.GetProperty("state").GetString() == "running");
        // The log moved with the app: the lines from before the rename are there, and the rename itself.
        var logs = AppUnderTest.Must(await renamed.PaasAsync("logs", "-n", "500")).Stdout;
        Assert.Contains("Set GREETING config var", logs);
        Assert.Contains($"Renamed from {old.Name} to {renamed.Name}", logs);

        // git push to the rewritten remote deploys the renamed app.
        await File.WriteAllTextAsync(Path.Combine(old.WorkTree, "after-rename.txt"), "pushed to the renamed remote\n");
        await platform.CommitAllAsync(old.WorkTree, "after rename");
        var push = AppUnderTest.Must(await platform.GitAsync(old.WorkTree, "push", "paas", "main"));
        Assert.Contains($"Released v{releases.Max() + 1}", push.All);
        Assert.Contains("GREETING=before-rename\n", await renamed.GetAsync());
        Assert.Contains($"-----> Released v{releases.Max() + 1}", AppUnderTest.Must(await renamed.PaasAsync("releases:output")).Stdout);

        // The old name is free again.
        AppUnderTest.Must(await platform.PaasAsync(null, "apps:create", old.Name));
        Assert.StartsWith("200 ", await renamed.GetAsync());
        Console.WriteLine($"apps:rename with one running instance took {took.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task AppsRename_BadInput_IsOneSentence_AndChangesNothing()
    {
        var name = PlatformFixture.UniqueAppName("keep");
        var other = PlatformFixture.UniqueAppName("taken");
        AppUnderTest.Must(await platform.PaasAsync(null, "apps:create", name));
        AppUnderTest.Must(await platform.PaasAsync(null, "apps:create", other));

        var invalid = await platform.PaasAsync(null, "apps:rename", "Not_Valid", "-a", name);
        var taken = await platform.PaasAsync(null, "apps:rename", other, "-a", name);
        var same = await platform.PaasAsync(null, "apps:rename", name, "-a", name);
        var unknown = await platform.PaasAsync(null, "apps:rename", PlatformFixture.UniqueAppName("new"), "-a", PlatformFixture.UniqueAppName("none"));

        foreach (var refused in new[] { invalid, taken, same, unknown })
        {
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Single(refused.Stderr.Trim().Split('\n'));
        }
        Assert.Contains($"An app named '{other}' already exists.", taken.Stderr);
        Assert.Contains($"is named '{name}' already", same.Stderr);
        Assert.Contains("No app named", unknown.Stderr);
        var apps = AppUnderTest.Must(await platform.PaasAsync(null, "apps", "--json")).Stdout;
        Assert.Contains($"\"{name}\"", apps);
        Assert.Contains($"\"{other}\"", apps);
        Assert.DoesNotContain("Not_Valid", apps);
    }
}
