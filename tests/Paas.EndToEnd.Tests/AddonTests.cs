using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// A PostgreSQL add-on, end to end: the server runs on a cell from the platform's own image, the app finds it in
/// DATABASE_URL and keeps counting through restarts and redeploys of the app and of the server, other apps are
/// turned away without its credentials, and destroying it needs the app's name as confirmation.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AddonTests(PlatformFixture platform)
{
    private const string AddonImage = "paas/addons:latest";

    [Fact]
    public async Task PostgresAddon_CountKeepsGoing_ThroughAppAndServerRestarts_OthersNeedItsCredentials_DestroyNeedsConfirmation()
    {
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        await RequireAddonImageAsync(docker);
        var name = PlatformFixture.UniqueAppName("pgcount");
        var workTree = await platform.NewWorkTreeAsync("pgcount");
        AppUnderTest.Must(await platform.PaasAsync(workTree, "apps:create", name));
        AppUnderTest.Must(await platform.PaasAsync(workTree, "git:remote", name));
        var app = new AppUnderTest(platform, name, workTree);

        // Created before the first push: the URL is stored and applies from the first deploy.
        var clock = Stopwatch.StartNew();
        var created = await app.PaasAsync("addons:create", "postgresql", "--json");
        var createSeconds = clock.Elapsed.TotalSeconds;
        Assert.True(created.ExitCode == 0, created.ToString());
        var addon = JsonDocument.Parse(created.Stdout).RootElement;
        var addonId = addon.GetProperty("id").GetString()!;
        Assert.Equal("available", addon.GetProperty("state").GetString());
        AppUnderTest.Must(await platform.GitAsync(workTree, "push", "paas", "main"));

        var counts = new List<string>();
        for (var i = 0; i < 5; i++)
            counts.Add(await app.GetAsync());
        Assert.Equal(Enumerable.Range(1, 5).Select(n => $"200 visits: {n}\n"), counts);

        AppUnderTest.Must(await app.PaasAsync("ps:restart"));
        Assert.Equal("200 visits: 6\n", await app.GetAsync());

        await File.AppendAllTextAsync(Path.Combine(workTree, "app.py"), "# redeployed\n");
        await platform.CommitAllAsync(workTree, "redeploy");
        AppUnderTest.Must(await platform.GitAsync(workTree, "push", "paas", "main"));
        Assert.Equal("200 visits: 7\n", await app.GetAsync());

        // The server restarted in place, then killed outright: the add-on converger starts it again on its volume.
        var container = "paas-addon-" + addonId;
        await docker.Containers.RestartContainerAsync(container, new ContainerRestartParameters { WaitBeforeKillSeconds = 10 });
        Assert.Equal("200 visits: 8\n", await UntilServedAsync(app));
        await docker.Containers.KillContainerAsync(container, new ContainerKillParameters { Signal = "SIGKILL" });
        Assert.Equal("200 visits: 9\n", await UntilServedAsync(app));
        var events = AppUnderTest.Must(await app.PaasAsync("events"));
        Assert.Contains($"Add-on {addonId} started again on its volume", events.Stdout);

        // The controller killed and started, the agent of the add-on's cell killed and started: the same server keeps serving.
        var serverBefore = (await docker.Containers.InspectContainerAsync(container)).ID;
        var cellName = (await docker.Containers.InspectContainerAsync(container)).Config.Labels["paas.cell"];
        platform.KillController();
        platform.KillCell(cellName);
        await platform.StartCellAsync(cellName);
        await platform.StartControllerAsync();
        await platform.WaitForCellsAsync(PlatformFixture.CellLayout.Count);
        Assert.Equal("200 visits: 10\n", await UntilServedAsync(app));
        Assert.Equal(serverBefore, (await docker.Containers.InspectContainerAsync(container)).ID);

        // Listed with its state, plan, host and size; the client session sees the app's table.
        var listed = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("addons", "--json")).Stdout).RootElement.EnumerateArray().Single();
        Assert.Equal("available", listed.GetProperty("state").GetString());
        Assert.Equal("hobby", listed.GetProperty("plan").GetString());
        Assert.Equal($"{container}:5432", listed.GetProperty("host").GetString());
        Assert.True(listed.GetProperty("size_bytes").GetInt64() > 1_000_000, listed.ToString());
        var psql = await app.PaasAsync("pg:psql", "-c", "SELECT count(*) AS n FROM visits");
        Assert.True(psql.ExitCode == 0, psql.ToString());
        Assert.Matches(@"\n\s+10\n", psql.Stdout);

        // Non-root, memory-limited, like any instance.
        var inspected = await docker.Containers.InspectContainerAsync(container);
        Assert.Equal("1000:1000", inspected.Config.User);
        Assert.Equal(256L * 1024 * 1024, inspected.HostConfig.Memory);

        // The credentials are in the app's config and nowhere in its events or logs.
        var url = AppUnderTest.Must(await app.PaasAsync("config:get", "DATABASE_URL")).Stdout.Trim();
        var password = new Uri(url).UserInfo.Split(':')[1];
        Assert.True(password.Length >= 32);
        Assert.DoesNotContain(password, events.Stdout);
        Assert.DoesNotContain(password, AppUnderTest.Must(await app.PaasAsync("logs", "-n", "1000")).Stdout);

        // Another app on the platform reaches the server, and is refused with a wrong password or none.
        var other = await AppUnderTest.PushedAsync(platform, "pgother", "pgcount");
        var user = new Uri(url).UserInfo.Split(':')[0];
        AppUnderTest.Must(await other.PaasAsync("config:set", $"DATABASE_URL={url.Replace(password, "not" + password[3..])}"));
        var wrongPassword = await other.GetAsync();
        AppUnderTest.Must(await other.PaasAsync("config:set", $"DATABASE_URL=postgres://postgres@{container}:5432/postgres"));
        var noPassword = await other.GetAsync();
        Assert.Equal($"503 database unavailable: FATAL: password authentication failed for user \"{user}\"\n", wrongPassword);
        Assert.Equal("503 database unavailable: FATAL: password authentication failed for user \"postgres\"\n", noPassword);
        Assert.Equal("200 visits: 11\n", await app.GetAsync());

        // The Heroku API lists it under Heroku's service name.
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"{platform.ApiUrl}/apps/{name}/addons"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(platform.DataDirectory, "admin-token"))).Trim());
            request.Headers.Accept.ParseAdd("application/vnd.heroku+json; version=3");
            using var response = await platform.Http.SendAsync(request);
            var heroku = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Single();
            Assert.Equal("heroku-postgresql", heroku.GetProperty("addon_service").GetProperty("name").GetString());
            Assert.Equal(addonId, heroku.GetProperty("name").GetString());
            Assert.Equal("DATABASE_URL", heroku.GetProperty("config_vars")[0].GetString());
        }

        // Without confirmation nothing changes; with it the server, its volume and the var go.
        var unconfirmed = await app.PaasAsync("addons:destroy", addonId);
        var wrongConfirm = await platform.PaasAsync(workTree, "addons:destroy", addonId, "-a", name, "--confirm", "other-app");
        Assert.NotEqual(0, unconfirmed.ExitCode);
        Assert.Contains($"--confirm {name}", unconfirmed.Stderr);
        Assert.NotEqual(0, wrongConfirm.ExitCode);
        Assert.True((await docker.Containers.InspectContainerAsync(container)).State.Running);
        Assert.Equal(url, AppUnderTest.Must(await app.PaasAsync("config:get", "DATABASE_URL")).Stdout.Trim());
        Assert.Equal("200 visits: 12\n", await app.GetAsync());

        var destroyed = await app.PaasAsync("addons:destroy", addonId, "--confirm", name);
        Assert.True(destroyed.ExitCode == 0, destroyed.ToString());
        await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => docker.Containers.InspectContainerAsync(container));
        var volumes = await docker.Volumes.ListAsync();
        Assert.DoesNotContain(volumes.Volumes ?? [], v => v.Name == container);
        var config = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("config", "--json")).Stdout).RootElement;
        Assert.False(config.TryGetProperty("DATABASE_URL", out _));
        Assert.Equal("503 no DATABASE_URL\n", await app.GetAsync());
        Assert.Contains("has no add-ons", AppUnderTest.Must(await app.PaasAsync("addons")).Stdout);
        Console.WriteLine($"addons:create postgresql took {createSeconds:0.0} s (server accepting connections, URL stored)");
    }

    [Fact]
    public async Task PostgresBackup_CapturedThenTableDropped_RestoreBringsTheCountBack_DownloadIsADump()
    {
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        await RequireAddonImageAsync(docker);
        var app = await AppUnderTest.PushedAsync(platform, "pgbackup", "pgcount");
        var addonId = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("addons:create", "postgresql", "--json")).Stdout).RootElement.GetProperty("id").GetString()!;
        for (var i = 0; i < 3; i++)
            Assert.Equal($"200 visits: {i + 1}\n", await UntilServedAsync(app));

        var capture = await app.PaasAsync("pg:backups:capture");
        var drop = await app.PaasAsync("pg:psql", "-c", "DROP TABLE visits");
        var gone = await app.PaasAsync("pg:psql", "-c", "SELECT count(*) FROM visits");
        var unconfirmed = await app.PaasAsync("pg:backups:restore", "b001");
        var restore = await app.PaasAsync("pg:backups:restore", "b001", "--confirm", app.Name);
        var afterRestore = await app.GetAsync();
        var list = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("pg:backups", "--json")).Stdout).RootElement.EnumerateArray().Single();
        var file = Path.Combine(platform.DataDirectory, $"{app.Name}-b001.dump");
        var download = await app.PaasAsync("pg:backups:download", "b001", "--output", file);

        Assert.True(capture.ExitCode == 0, capture.ToString());
        Assert.Contains($"Backup b001 of {addonId}", capture.Stdout);
        Assert.True(drop.ExitCode == 0, drop.ToString());
        Assert.NotEqual(0, gone.ExitCode);
        Assert.Contains("relation \"visits\" does not exist", gone.Stdout);
        Assert.NotEqual(0, unconfirmed.ExitCode);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.Equal("200 visits: 4\n", afterRestore);
        Assert.Equal(addonId, list.GetProperty("addon").GetString());
        Assert.True(download.ExitCode == 0, download.ToString());
        var bytes = await File.ReadAllBytesAsync(file);
        Assert.Equal(list.GetProperty("size_bytes").GetInt64(), bytes.Length);
        Assert.Equal("PGDMP"u8.ToArray(), bytes[..5]);
        var events = AppUnderTest.Must(await app.PaasAsync("events")).Stdout;
        Assert.Contains("Backup b001 restored", events);
        AppUnderTest.Must(await app.PaasAsync("addons:destroy", addonId, "--confirm", app.Name));
    }

    [Fact]
    public async Task HerokuCli_CreatesListsAndDestroysAHerokuPostgresqlAddon()
    {
        HerokuCli.EnsureInstalled();
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        await RequireAddonImageAsync(docker);
        var user = $"hkaddon-{Guid.NewGuid().ToString("N")[..6]}";
        var token = JsonDocument.Parse(AppUnderTest.Must(await platform.PaasAsync(null, "users:create", user, "--json")).Stdout).RootElement.GetProperty("token").GetString()!;
        var heroku = new HerokuCli(platform, token, Path.Combine(platform.DataDirectory, "heroku-home-" + user));
        var app = PlatformFixture.UniqueAppName("hkpg");
        var workTree = await platform.NewWorkTreeAsync("pgcount");
        AppUnderTest.Must(await heroku.RunAsync(workTree, "apps:create", app));
        AppUnderTest.Must(await heroku.GitAsync(workTree, "push", "heroku", "main"));

        var create = await heroku.RunAsync(workTree, "addons:create", "heroku-postgresql", "-a", app);
        var served = await UntilServedAsync(new AppUnderTest(platform, app, workTree));
        var list = await heroku.RunAsync(workTree, "addons", "-a", app);
        var name = JsonDocument.Parse(AppUnderTest.Must(await heroku.RunAsync(workTree, "addons", "--json", "-a", app)).Stdout).RootElement[0].GetProperty("name").GetString()!;
        var destroy = await heroku.RunAsync(workTree, "addons:destroy", name, "-a", app, "--confirm", app);
        var config = JsonDocument.Parse(AppUnderTest.Must(await heroku.RunAsync(workTree, "config", "--json", "-a", app)).Stdout).RootElement;

        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Contains("DATABASE_URL", create.All);
        Assert.Equal("200 visits: 1\n", served);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("heroku-postgresql", list.Stdout);
        Assert.True(destroy.ExitCode == 0, destroy.ToString());
        Assert.False(config.TryGetProperty("DATABASE_URL", out _));
        await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => docker.Containers.InspectContainerAsync("paas-addon-" + name));
    }

    [Fact]
    public async Task RedisAddon_KeyKeepsItsValue_ThroughARestartOfTheServer()
    {
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        await RequireAddonImageAsync(docker);
        var app = await AppUnderTest.PushedAsync(platform, "rediscount", "pgcount");

        var created = await app.PaasAsync("addons:create", "redis", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        var addonId = JsonDocument.Parse(created.Stdout).RootElement.GetProperty("id").GetString()!;
        var counts = new List<string>();
        for (var i = 0; i < 3; i++)
            counts.Add(await GetAsync(app, "/redis"));
        await docker.Containers.RestartContainerAsync("paas-addon-" + addonId, new ContainerRestartParameters { WaitBeforeKillSeconds = 10 });
        var afterRestart = await UntilServedAsync(app, "/redis");
        var cli = await app.PaasAsync("redis:cli", "-c", "GET counter");
        var url = AppUnderTest.Must(await app.PaasAsync("config:get", "REDIS_URL")).Stdout.Trim();
        AppUnderTest.Must(await app.PaasAsync("config:set", $"REDIS_URL={url.Replace(":" + new Uri(url).UserInfo.TrimStart(':') + "@", ":wrong@")}"));
        var wrongPassword = await GetAsync(app, "/redis");

        Assert.Equal(["200 counter: 1\n", "200 counter: 2\n", "200 counter: 3\n"], counts);
        Assert.Equal("200 counter: 4\n", afterRestart);
        Assert.True(cli.ExitCode == 0, cli.ToString());
        Assert.Equal("4", cli.Stdout.Trim());
        Assert.StartsWith("503 redis unavailable: WRONGPASS", wrongPassword);
        AppUnderTest.Must(await app.PaasAsync("addons:destroy", addonId, "--confirm", app.Name));
    }

    [Fact]
    public async Task AttachedAddon_OtherAppCountsInTheSameDatabase_DestroyRefusedWhileAttached_DetachUnsetsItsVar()
    {
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        await RequireAddonImageAsync(docker);
        var owner = await AppUnderTest.PushedAsync(platform, "pgowner", "pgcount");
        var other = await AppUnderTest.PushedAsync(platform, "pgshare", "pgcount");
        var created = await owner.PaasAsync("addons:create", "postgresql", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        var addonId = JsonDocument.Parse(created.Stdout).RootElement.GetProperty("id").GetString()!;
        var ownerCounts = new[] { await owner.GetAsync(), await owner.GetAsync() };

        // The other app gets the owner's server under its own var name; pgcount reads DATABASE_URL, so that is the one.
        var attach = await other.PaasAsync("addons:attach", addonId, "--as", "DATABASE_URL");
        var otherCount = await other.GetAsync();
        var listed = JsonDocument.Parse(AppUnderTest.Must(await other.PaasAsync("addons", "--json")).Stdout).RootElement.EnumerateArray().Single();
        var refused = await owner.PaasAsync("addons:destroy", addonId, "--confirm", owner.Name);
        var stillServed = await owner.GetAsync();
        var detach = await other.PaasAsync("addons:detach", addonId);
        var afterDetach = await other.GetAsync();
        var otherConfig = JsonDocument.Parse(AppUnderTest.Must(await other.PaasAsync("config", "--json")).Stdout).RootElement;
        var destroyed = await owner.PaasAsync("addons:destroy", addonId, "--confirm", owner.Name);

        Assert.Equal(["200 visits: 1\n", "200 visits: 2\n"], ownerCounts);
        Assert.True(attach.ExitCode == 0, attach.ToString());
        Assert.Equal("200 visits: 3\n", otherCount);
        Assert.Equal(owner.Name, listed.GetProperty("app").GetString());
        Assert.Equal("DATABASE_URL", listed.GetProperty("config_var").GetString());
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"{addonId} is attached to {other.Name} as DATABASE_URL; detach it first", refused.All);
        Assert.Equal("200 visits: 4\n", stillServed);
        Assert.True(detach.ExitCode == 0, detach.ToString());
        Assert.StartsWith("503 ", afterDetach);
        Assert.False(otherConfig.TryGetProperty("DATABASE_URL", out _));
        Assert.True(destroyed.ExitCode == 0, destroyed.ToString());
        await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => docker.Containers.InspectContainerAsync("paas-addon-" + addonId));
    }

    private async Task<string> GetAsync(AppUnderTest app, string path)
    {
        using var response = await platform.GetThroughRouterAsync(PlatformFixture.AppHost(app.Name), path);
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    /// <summary>GETs until the app answers 200 (bounded): the server is coming back after a restart.</summary>
    private async Task<string> UntilServedAsync(AppUnderTest app, string path = "/")
    {
        var clock = Stopwatch.StartNew();
        var last = await GetAsync(app, path);
        while (!last.StartsWith("200 ", StringComparison.Ordinal) && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(250);
            last = await GetAsync(app, path);
        }
        return last;
    }

    private static async Task RequireAddonImageAsync(IDockerClient docker)
    {
        try
        {
            await docker.Images.InspectImageAsync(AddonImage);
        }
        catch (DockerImageNotFoundException)
        {
            throw new InvalidOperationException($"Add-on tests need the {AddonImage} image: deploy/addons/build.sh builds it (make test runs it through deploy/setup.sh).");
        }
    }
}
