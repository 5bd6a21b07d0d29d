using System.Diagnostics;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// Apps that bring their own Dockerfile (fixture tests/fixtures/apps/dockerfile: FROM paas/stack, a RUN step
/// that sees a build arg, EXPOSE 8000, CMD): built by the engine on the staging cell, run as the platform's
/// unprivileged uid, served through the router, scaled and rolled back like any release.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class DockerfileTests(PlatformFixture platform)
{
    /// <summary>Fails showing the whole push, not a truncated excerpt.</summary>
    private static void Has(ProcessResult push, string text) => Assert.True(push.Stderr.Contains(text, StringComparison.Ordinal), $"'{text}' not in:\n{push}");

    [Fact]
    public async Task DockerfileApp_DeploysServesScalesAndRollsBack_AndAFailingBuildKeepsTheOldRelease()
    {
        var name = PlatformFixture.UniqueAppName("dockerfile");
        var workTree = await platform.NewWorkTreeAsync("dockerfile");
        AppUnderTest.Must(await platform.PaasAsync(workTree, "apps:create", name));
        AppUnderTest.Must(await platform.PaasAsync(workTree, "git:remote", name));
        var app = new AppUnderTest(platform, name, workTree);
        AppUnderTest.Must(await app.PaasAsync("config:set", "GREETING=from-config"));

        var first = await platform.GitAsync(workTree, "push", "paas", "main");
        var v1 = await app.GetAsync();

        Assert.True(first.ExitCode == 0, first.ToString());
        Has(first, "remote: -----> Dockerfile detected");
        Has(first, "remote:        Step 5/7 : RUN echo");
        // v1 is the app's "Initial release", v2 the config change, so the first push is v3.
        Has(first, "Released v3");
        Assert.Contains("dockerfile v1", v1);
        Assert.Contains("built with GREETING=from-config", v1);   // app.json's build.args
        Assert.Contains("uid=1000", v1);                          // no USER: the platform's uid, never root
        Assert.Contains("port=8000", v1);                         // EXPOSE decides the port

        // A second version: served after its push; the unchanged early steps come from the layer cache.
        var server = Path.Combine(workTree, "server.py");
        await File.WriteAllTextAsync(server, (await File.ReadAllTextAsync(server)).Replace("dockerfile v1", "dockerfile v2"));
        await platform.CommitAllAsync(workTree, "v2");
        var second = await platform.GitAsync(workTree, "push", "paas", "main");
        Assert.True(second.ExitCode == 0, second.ToString());
        Has(second, "Using cache");
        Assert.Contains("dockerfile v2", await app.GetAsync());

        AppUnderTest.Must(await app.PaasAsync("ps:scale", "web=2"));
        var scaled = await app.WaitForInstancesAsync(i => i.Count(e => e.GetProperty("state").GetString() == "running") == 2, TimeSpan.FromSeconds(60));
        Assert.Equal(2, scaled.Count(e => e.GetProperty("state").GetString() == "running"));

        var rollback = await app.PaasAsync("releases:rollback", "v3");
        Assert.True(rollback.ExitCode == 0, rollback.ToString());
        Assert.Contains("dockerfile v1", await app.GetAsync());

        // A failing RUN step: rejected naming the step, and the rolled-back release keeps serving.
        var dockerfile = Path.Combine(workTree, "Dockerfile");
        await File.WriteAllTextAsync(dockerfile, (await File.ReadAllTextAsync(dockerfile)).Replace("EXPOSE 8000", "RUN echo about to fail && exit 3\nEXPOSE 8000"));
        await platform.CommitAllAsync(workTree, "a failing step");
        var failed = await platform.GitAsync(workTree, "push", "paas", "main");
        Assert.NotEqual(0, failed.ExitCode);
        Has(failed, "The Dockerfile build failed at step 6/8 (RUN echo about to fail && exit 3)");
        Assert.Contains("dockerfile v1", await app.GetAsync());

        // USER root is refused with one sentence (the operator setting is off), and nothing changes.
        await File.WriteAllTextAsync(dockerfile, (await File.ReadAllTextAsync(dockerfile)).Replace("RUN echo about to fail && exit 3\n", "USER root\n"));
        await platform.CommitAllAsync(workTree, "root");
        var root = await platform.GitAsync(workTree, "push", "paas", "main");
        Assert.NotEqual(0, root.ExitCode);
        Has(root, "The Dockerfile sets USER root, and apps do not run as root here");
        Assert.Contains("dockerfile v1", await app.GetAsync());
        var releases = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("releases", "--json")).Stdout).RootElement;
        // Failed pushes are listed too; the current release is still the rollback.
        var current = releases.EnumerateArray().Single(r => r.GetProperty("current").GetBoolean());
        Assert.Equal("Rollback to v3", current.GetProperty("description").GetString());
    }

    [Fact]
    public async Task DeployImage_FromARegistryWithCredentials_ServesIt_AndAMissingTagChangesNothing()
    {
        await using var registry = await ImageRegistry.StartAsync("127.0.0.1", bind: "127.0.0.1");
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        var repository = "paas-e2e/prebuilt-" + Guid.NewGuid().ToString("N")[..8];
        var local = await BusyboxImage.ImportAsync(docker, repository, "v1", "<h1>prebuilt image</h1>\n");
        var digest = await registry.PushAsync(docker, local, repository, "v1");
        await docker.Images.DeleteImageAsync(local, new ImageDeleteParameters { Force = true });
        var name = PlatformFixture.UniqueAppName("image");
        AppUnderTest.Must(await platform.PaasAsync(null, "apps:create", name));
        var app = new AppUnderTest(platform, name, platform.DataDirectory);
        var credentials = registry.Credentials;
        var reference = $"{registry.LoopbackAddress}/{repository}:v1";

        var deployed = await platform.PaasWithInputAsync(null, credentials.Password + "\n",
            "deploy:image", reference, "-a", name, "--username", credentials.Username, "--password-stdin");
        var body = await app.GetAsync();

        Assert.True(deployed.ExitCode == 0, deployed.ToString());
        Assert.Contains($"Released v2 ({registry.LoopbackAddress}/{repository}@{digest})", deployed.Stdout);
        Assert.DoesNotContain(credentials.Password, deployed.Stdout + deployed.Stderr);
        Assert.Contains("prebuilt image", body);
        var instances = await app.InstancesAsync();
        Assert.Single(instances);

        // A tag the registry does not have: the reason, and nothing changes.
        var missing = await platform.PaasWithInputAsync(null, credentials.Password + "\n",
            "deploy:image", $"{registry.LoopbackAddress}/{repository}:no-such-tag", "-a", name, "--username", credentials.Username, "--password-stdin");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains($"Could not pull {registry.LoopbackAddress}/{repository}:no-such-tag", missing.Stderr);
        Assert.Contains("prebuilt image", await app.GetAsync());
        var releases = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("releases", "--json")).Stdout).RootElement;
        Assert.Equal(2, releases.EnumerateArray().Single(r => r.GetProperty("current").GetBoolean()).GetProperty("version").GetInt32());
        Assert.All(await app.InstancesAsync(), i => Assert.Equal(2, i.GetProperty("release").GetInt32()));

        // The cell's pull of the test image stays in the shared engine otherwise (the release image is the app's, pruned with it).
        foreach (var pulled in await docker.Images.ListImagesAsync(new ImagesListParameters
                 {
                     Filters = new Dictionary<string, IDictionary<string, bool>> { ["reference"] = new Dictionary<string, bool> { [$"{registry.LoopbackAddress}/{repository}"] = true } },
                 }))
        {
            // By tag, not id: the app's release image is built on it (its layers go when the app's images are pruned).
            foreach (var tag in pulled.RepoTags ?? [])
                await docker.Images.DeleteImageAsync(tag, new ImageDeleteParameters { NoPrune = true });
        }
    }

    [Fact]
    public async Task DeployImage_WithTheAppsStoredRegistryLogin_PullsWithIt_AndNeverShowsThePassword()
    {
        await using var registry = await ImageRegistry.StartAsync("127.0.0.1", bind: "127.0.0.1");
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        var repository = "paas-e2e/stored-login-" + Guid.NewGuid().ToString("N")[..8];
        var local = await BusyboxImage.ImportAsync(docker, repository, "v1", "<h1>pulled with the stored login</h1>\n");
        var digest = await registry.PushAsync(docker, local, repository, "v1");
        await docker.Images.DeleteImageAsync(local, new ImageDeleteParameters { Force = true });
        var name = PlatformFixture.UniqueAppName("image-login");
        AppUnderTest.Must(await platform.PaasAsync(null, "apps:create", name));
        var app = new AppUnderTest(platform, name, platform.DataDirectory);
        var credentials = registry.Credentials;
        var reference = $"{registry.LoopbackAddress}/{repository}:v1";
        try
        {
            // Without a login the registry refuses the pull: the deploy fails with the reason, nothing is released.
            var refused = await platform.PaasAsync(null, "deploy:image", reference, "-a", name);
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains($"Could not pull {reference}", refused.Stderr);

            var login = await platform.PaasWithInputAsync(null, credentials.Password + "\n",
                "registry:login", $"http://{registry.LoopbackAddress}/", "-u", credentials.Username, "--password-stdin", "-a", name);
            var listed = await platform.PaasAsync(null, "registry:logins", "-a", name);
            var listedJson = await platform.PaasAsync(null, "registry:logins", "-a", name, "--json");
            var deployed = await platform.PaasAsync(null, "deploy:image", reference, "-a", name);
            var events = await platform.PaasAsync(null, "events", "-a", name);

            Assert.True(login.ExitCode == 0, login.ToString());
            Assert.Contains($"Stored {name}'s login to {registry.LoopbackAddress} as {credentials.Username}.", login.Stdout);
            Assert.Contains($"{registry.LoopbackAddress}  {credentials.Username}  ********", listed.Stdout);
            Assert.True(deployed.ExitCode == 0, deployed.ToString());
            Assert.Contains($"Pulling with the app's login to {registry.LoopbackAddress} (as {credentials.Username})", deployed.Stdout);
            Assert.Contains($"Released v2 ({registry.LoopbackAddress}/{repository}@{digest})", deployed.Stdout);
            Assert.Contains("pulled with the stored login", await app.GetAsync());
            foreach (var output in new[] { login, listed, listedJson, deployed, events })
                Assert.DoesNotContain(credentials.Password, output.Stdout + output.Stderr);
            Assert.DoesNotContain(credentials.Password, platform.ControllerOutput);

            // Logged out, the registry refuses the pull again.
            AppUnderTest.Must(await platform.PaasAsync(null, "registry:logout", registry.LoopbackAddress, "-a", name));
            var after = await platform.PaasAsync(null, "deploy:image", reference, "-a", name);
            Assert.NotEqual(0, after.ExitCode);
            Assert.Contains($"{name} has no registry logins.", (await platform.PaasAsync(null, "registry:logins", "-a", name)).Stdout);
        }
        finally
        {
            foreach (var pulled in await docker.Images.ListImagesAsync(new ImagesListParameters
                     {
                         Filters = new Dictionary<string, IDictionary<string, bool>> { ["reference"] = new Dictionary<string, bool> { [$"{registry.LoopbackAddress}/{repository}"] = true } },
                     }))
            {
                foreach (var tag in pulled.RepoTags ?? [])
                    await docker.Images.DeleteImageAsync(tag, new ImageDeleteParameters { NoPrune = true });
            }
        }
    }

    [Fact]
    public async Task DockerfileBuild_ThatHangs_IsKilledAtTheStagingLimit_WithTheReason()
    {
        var name = PlatformFixture.UniqueAppName("dockerfile-hang");
        var workTree = await platform.NewWorkTreeAsync("dockerfile");
        // A marker only this build's RUN container has, to find it among the engine's containers.
        var marker = "paas-hang-" + Guid.NewGuid().ToString("N")[..8];
        File.WriteAllText(Path.Combine(workTree, "Dockerfile"), $"FROM paas/stack\nRUN echo {marker} && sleep 3600\nCMD [\"true\"]\n");
        await platform.CommitAllAsync(workTree, "a RUN step that never ends");
        AppUnderTest.Must(await platform.PaasAsync(workTree, "apps:create", name));
        AppUnderTest.Must(await platform.PaasAsync(workTree, "git:remote", name));

        platform.StopController();
        try
        {
            await platform.StartControllerAsync(new Dictionary<string, string> { ["PAAS_STAGING_TIMEOUT_SECONDS"] = "5" });
            var clock = Stopwatch.StartNew();
            var push = await platform.GitAsync(workTree, "push", "paas", "main");
            var seconds = clock.Elapsed.TotalSeconds;

            Assert.NotEqual(0, push.ExitCode);
            Has(push, $"remote:        {marker}");
            Has(push, "Push rejected: The Dockerfile build was still running at step 2/3 (RUN echo " + marker + " && sleep 3600) when it reached the staging limit of 5 seconds, so it was stopped.");
            Assert.True(seconds < 60, $"the push took {seconds:0.0} s");
            Assert.Empty(await platform.ContainersAsync(name));
            // The engine's RUN container goes with the build, within a bounded wait.
            using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            IList<ContainerListResponse> left;
            do
            {
                left = (await docker.Containers.ListContainersAsync(new ContainersListParameters { All = true }))
                    .Where(c => c.Command?.Contains(marker, StringComparison.Ordinal) == true).ToList();
                if (left.Count == 0)
                    break;
                await Task.Delay(250);
            }
            while (DateTime.UtcNow < deadline);
            Assert.Empty(left);
        }
        finally
        {
            platform.StopController();
            await platform.StartControllerAsync();
        }
    }
}
