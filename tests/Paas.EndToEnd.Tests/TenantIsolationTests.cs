using System.Net;
using System.Net.Sockets;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// Attacks by one ordinary user on another, on a real platform: each reproduces a probe's finding and
/// expects the refusal, with its one-sentence reason. (The fixture's own CLI acts as the operator.)
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class TenantIsolationTests(PlatformFixture platform)
{
    /// <summary>Alice's app, pushed, with a secret file in her repository; returns the app's name.</summary>
    private async Task<string> AlicesAppWithASecretAsync(ClientIdentity alice, string secret)
    {
        var app = PlatformFixture.UniqueAppName("hers");
        var workTree = await platform.NewWorkTreeAsync("static");
        File.WriteAllText(Path.Combine(workTree, "secret.txt"), secret);
        await platform.CommitAllAsync(workTree, "her secret");
        AppUnderTest.Must(await platform.PaasAsAsync(alice, workTree, "apps:create", app));
        AppUnderTest.Must(await platform.PaasAsAsync(alice, workTree, "git:remote", app));
        AppUnderTest.Must(await platform.GitAsAsync(alice, workTree, "push", "paas", "main"));
        return app;
    }

    private async Task<(string App, string WorkTree)> BobsAppAsync(ClientIdentity bob)
    {
        var app = PlatformFixture.UniqueAppName("his");
        var workTree = await platform.NewWorkTreeAsync("static");
        AppUnderTest.Must(await platform.PaasAsAsync(bob, workTree, "apps:create", app));
        AppUnderTest.Must(await platform.PaasAsAsync(bob, workTree, "git:remote", app));
        return (app, workTree);
    }

    [Fact]
    public async Task Tenant_CannotReadAnotherTenantsRepository_ThroughAFileBuildpackUrl()
    {
        var alice = await platform.NewUserAsync("alice");
        var bob = await platform.NewUserAsync("bob");
        var secret = "alice-secret-" + Guid.NewGuid().ToString("N");
        var hers = await AlicesAppWithASecretAsync(alice, secret);
        var (his, workTree) = await BobsAppAsync(bob);
        // Bob's own buildpack would print every file of every buildpack mounted beside it.
        var herRepository = $"file://{platform.DataDirectory}/repos/{hers}.git#main";

        var set = await platform.PaasAsAsync(bob, workTree, "buildpacks:set", herRepository, "-a", his);
        File.WriteAllText(Path.Combine(workTree, ".buildpacks"), herRepository + "\n");
        await platform.CommitAllAsync(workTree, "her repository as my buildpack");
        var push = await platform.GitAsAsync(bob, workTree, "push", "paas", "main");
        AppUnderTest.Must(await platform.PaasAsAsync(bob, workTree, "config:set", $"BUILDPACK_URL={herRepository}", "-a", his));
        File.WriteAllText(Path.Combine(workTree, "again.txt"), "again\n");
        await platform.CommitAllAsync(workTree, "again, through BUILDPACK_URL");
        var pushByConfig = await platform.GitAsAsync(bob, workTree, "push", "paas", "main");

        Assert.NotEqual(0, set.ExitCode);
        Assert.Contains("only operators may use", set.Stderr);
        foreach (var attempt in new[] { push, pushByConfig })
        {
            Assert.NotEqual(0, attempt.ExitCode);
            Assert.Contains("only operators may use", attempt.Stderr);
            Assert.DoesNotContain(secret, attempt.Stdout + attempt.Stderr);
        }
        Assert.DoesNotContain(secret, (await platform.PaasAsAsync(bob, null, "logs", "-a", his, "-n", "500")).Stdout);
    }

    [Fact]
    public async Task Tenant_BuildpackUrl_CannotReachThePlatformsOwnPorts_AndLearnsNothingAboutThem()
    {
        var bob = await platform.NewUserAsync("bob");
        var (his, workTree) = await BobsAppAsync(bob);
        var closedPort = FreePort.Next();

        var answers = new List<string>();
        foreach (var port in new[] { platform.ApiPort, closedPort })
        {
            var url = $"http://127.0.0.1:{port}/buildpack.tgz";
            AppUnderTest.Must(await platform.PaasAsAsync(bob, workTree, "buildpacks:set", url, "-a", his));
            var push = await platform.GitAsAsync(bob, workTree, "push", "paas", "main");
            Assert.NotEqual(0, push.ExitCode);
            var reason = push.Stderr.Split('\n').Single(l => l.Contains("Push rejected"));
            answers.Add(reason.Replace(url, "URL"));
        }

        Assert.Contains("not a public address", answers[0]);
        Assert.Equal(answers[0], answers[1]);
    }

    [Fact]
    public async Task Tenant_CannotTakeOverNamesOfAnotherTenantsApp()
    {
        var alice = await platform.NewUserAsync("alice");
        var bob = await platform.NewUserAsync("bob");
        var hers = PlatformFixture.UniqueAppName("hers");
        var his = PlatformFixture.UniqueAppName("his");
        var herDomain = $"www.{hers}.test";
        AppUnderTest.Must(await platform.PaasAsAsync(alice, null, "apps:create", hers));
        AppUnderTest.Must(await platform.PaasAsAsync(alice, null, "domains:add", herDomain, "-a", hers));
        AppUnderTest.Must(await platform.PaasAsAsync(bob, null, "apps:create", his));

        var attempts = new Dictionary<string, string>
        {
            [$"x.{hers}.localhost"] = "under the platform's own domain",
            [$"*.{hers}.localhost"] = "under the platform's own domain",
            [$"*.{hers}.test"] = "a domain of another app",
            [$"{hers}.test"] = "a domain of another app",
            [$"api.{herDomain}"] = "a domain of another app",
        };
        foreach (var (hostname, reason) in attempts)
        {
            var added = await platform.PaasAsAsync(bob, null, "domains:add", hostname, "-a", his);
            Assert.True(added.ExitCode != 0, $"{hostname} was added: {added}");
            Assert.Contains(reason, added.Stderr);
        }
        var bobs = AppUnderTest.Must(await platform.PaasAsAsync(bob, null, "domains", "-a", his, "--json")).Stdout;
        Assert.DoesNotContain(hers, bobs);
    }

    [Fact]
    public async Task Tenant_CannotReachAnotherTenantsContainer_BehindTheRoutersBack()
    {
        var alice = await platform.NewUserAsync("alice");
        var bob = await platform.NewUserAsync("bob");
        var hers = await AlicesAppWithASecretAsync(alice, "not-the-point");
        var (his, workTree) = await BobsAppAsync(bob);
        AppUnderTest.Must(await platform.GitAsAsync(bob, workTree, "push", "paas", "main"));
        var herContainer = Assert.Single(await platform.ContainersAsync(hers));
        var herAddress = herContainer.NetworkSettings.Networks.Values.Single().IPAddress;
        // Her instance answers on its container address (from the host, as the engine's port publishing does).
        using (var direct = await platform.Http.GetAsync($"http://{herAddress}:5000/"))
            Assert.Equal(System.Net.HttpStatusCode.OK, direct.StatusCode);

        // His one-off container tries the same, as the probe's did (and got 200).
        var probe = await platform.PaasAsAsync(bob, workTree, "run", "-a", his, "--",
            $"curl -sS -o /dev/null -w 'status %{{http_code}}' --max-time 3 http://{herAddress}:5000/");

        Assert.NotEqual(0, probe.ExitCode);
        Assert.DoesNotContain("status 200", probe.Stdout + probe.Stderr);
    }

    [Fact]
    public async Task Tenant_Containers_CannotConnectToTheirHostsOwnPorts()
    {
        var bob = await platform.NewUserAsync("bob");
        var (his, workTree) = await BobsAppAsync(bob);
        AppUnderTest.Must(await platform.GitAsAsync(bob, workTree, "push", "paas", "main"));
        var gateway = Assert.Single(await platform.ContainersAsync(his)).NetworkSettings.Networks.Values.Single().Gateway;
        // A platform port bound to every interface, as `make run`'s API and router are.
        using var hostPort = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, 0);
        hostPort.Start();
        var port = ((System.Net.IPEndPoint)hostPort.LocalEndpoint).Port;

        var probe = await platform.PaasAsAsync(bob, workTree, "run", "-a", his, "--",
            $"exec 3<>/dev/tcp/{gateway}/{port} && echo connected");

        Assert.NotEqual(0, probe.ExitCode);
        Assert.DoesNotContain("connected", probe.Stdout);
        Assert.False(hostPort.Pending(), "the container's connection reached the host's port");
    }
}
