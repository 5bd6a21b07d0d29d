using System.Net;
using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>Users, tokens and app ownership, through the real CLI, git and HTTP.</summary>
[Collection(PlatformCollection.Name)]
public sealed class UsersAndOwnershipTests(PlatformFixture platform)
{
    [Fact]
    public async Task AnotherUser_CannotSeePushToOrChange_SomeoneElsesApp_UntilMadeACollaborator()
    {
        var alice = await platform.NewUserAsync("alice");
        var bob = await platform.NewUserAsync("bob");
        var app = PlatformFixture.UniqueAppName("owned");
        var workTree = await platform.NewWorkTreeAsync("envecho");
        AppUnderTest.Must(await platform.PaasAsAsync(alice, workTree, "apps:create", app));
        AppUnderTest.Must(await platform.PaasAsAsync(alice, workTree, "git:remote", app));
        AppUnderTest.Must(await platform.PaasAsAsync(alice, workTree, "config:set", "GREETING=from-alice", "-a", app));

        var bobsList = await platform.PaasAsAsync(bob, null, "apps", "--json");
        var bobsInfo = await platform.PaasAsAsync(bob, null, "apps:info", "-a", app);
        var bobsConfig = await platform.PaasAsAsync(bob, null, "config:set", "GREETING=from-bob", "-a", app);
        var bobsScale = await platform.PaasAsAsync(bob, null, "ps:scale", "web=2", "-a", app);
        var bobsDestroy = await platform.PaasAsAsync(bob, null, "apps:destroy", "-a", app, "--confirm", app);
        var bobsPush = await platform.GitAsAsync(bob, workTree, "push", "paas", "main");
        var bobsCells = await platform.PaasAsAsync(bob, null, "cells");

        Assert.Equal(0, bobsList.ExitCode);
        Assert.DoesNotContain(app, bobsList.Stdout);
        foreach (var refused in new[] { bobsInfo, bobsConfig, bobsScale, bobsDestroy })
        {
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains($"No app named '{app}' exists", refused.Stderr);
        }
        Assert.NotEqual(0, bobsPush.ExitCode);
        Assert.Contains("not found", bobsPush.Stderr);
        Assert.NotEqual(0, bobsCells.ExitCode);
        Assert.Contains("Only operators", bobsCells.Stderr);
        var config = AppUnderTest.Must(await platform.PaasAsAsync(alice, null, "config", "-a", app, "--json"));
        Assert.Equal("from-alice", JsonDocument.Parse(config.Stdout).RootElement.GetProperty("GREETING").GetString());
        var aliceInfo = AppUnderTest.Must(await platform.PaasAsAsync(alice, null, "apps:info", "-a", app, "--json"));
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(aliceInfo.Stdout).RootElement.GetProperty("release").ValueKind);

        // Made a collaborator, bob can push and change config, but not destroy the app.
        var bobName = (await platform.PaasAsAsync(bob, null, "whoami")).Stdout.Split(' ')[0];
        AppUnderTest.Must(await platform.PaasAsAsync(alice, null, "collaborators:add", bobName, "-a", app));
        var pushed = await platform.GitAsAsync(bob, workTree, "push", "paas", "main");
        var destroyAsCollaborator = await platform.PaasAsAsync(bob, null, "apps:destroy", "-a", app, "--confirm", app);
        var served = await new AppUnderTest(platform, app, workTree).GetAsync();

        Assert.True(pushed.ExitCode == 0, pushed.ToString());
        Assert.Contains("GREETING=from-alice", served);
        Assert.NotEqual(0, destroyAsCollaborator.ExitCode);
        Assert.Contains("Only the owner", destroyAsCollaborator.Stderr);
        var events = AppUnderTest.Must(await platform.PaasAsAsync(alice, null, "events", "-a", app));
        Assert.Contains(bobName, events.Stdout);
        Assert.Equal(0, (await platform.PaasAsAsync(alice, null, "apps:destroy", "-a", app, "--confirm", app)).ExitCode);
    }

    [Fact]
    public async Task Login_SavesAToken_WhoamiUsesIt_AndARevokedTokenIsRefused()
    {
        var carol = await platform.NewUserAsync("carol");
        var home = Path.Combine(platform.DataDirectory, "homes", Guid.NewGuid().ToString("N")[..6]);
        var loggedIn = new ClientIdentity(null, home);

        var before = await platform.PaasAsAsync(loggedIn, null, "whoami");
        var login = await platform.PaasAsAsync(loggedIn, null, "login", "--token", carol.Token!, "--api", platform.ApiUrl);
        var whoami = await platform.PaasAsAsync(loggedIn, null, "whoami");
        var second = AppUnderTest.Must(await platform.PaasAsAsync(loggedIn, null, "tokens:create", "--description", "ci", "--json"));
        var secondToken = JsonDocument.Parse(second.Stdout).RootElement;
        var tokens = AppUnderTest.Must(await platform.PaasAsAsync(loggedIn, null, "tokens"));
        var revoke = await platform.PaasAsAsync(loggedIn, null, "tokens:revoke", secondToken.GetProperty("id").GetString()!);
        var withRevoked = await platform.PaasAsAsync(new ClientIdentity(secondToken.GetProperty("token").GetString()), null, "whoami");
        var badLogin = await platform.PaasAsAsync(new ClientIdentity(null, home + "-bad"), null, "login", "--token", "paas_not-a-real-token", "--api", platform.ApiUrl);

        Assert.NotEqual(0, before.ExitCode);
        Assert.Contains("paas login", before.Stderr);
        Assert.True(login.ExitCode == 0, login.ToString());
        Assert.Contains("Logged in", login.Stdout);
        Assert.DoesNotContain(carol.Token!, login.Stdout);
        Assert.Equal(0, whoami.ExitCode);
        Assert.StartsWith("carol-", whoami.Stdout);
        Assert.Contains("(user)", whoami.Stdout);
        var saved = Path.Combine(home, ".config", "paas", "token");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(saved));
        Assert.Contains("ci", tokens.Stdout);
        Assert.Contains("(this one)", tokens.Stdout);
        Assert.Equal(0, revoke.ExitCode);
        Assert.NotEqual(0, withRevoked.ExitCode);
        Assert.Contains("valid API token", withRevoked.Stderr);
        Assert.NotEqual(0, badLogin.ExitCode);
        Assert.False(File.Exists(Path.Combine(home + "-bad", ".config", "paas", "token")));
    }

    [Fact]
    public async Task OnlyOperators_CreateUsers_AndTokensAreStoredHashed()
    {
        var dave = await platform.NewUserAsync("dave");

        var daveCreates = await platform.PaasAsAsync(dave, null, "users:create", "mallory");
        var duplicate = await platform.PaasAsync(null, "users:create", "admin");
        var badName = await platform.PaasAsync(null, "users:create", "Not A Name");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{platform.ApiUrl}/v1/users");
        request.Headers.Authorization = new("Bearer", dave.Token);
        using var daveLists = await platform.Http.SendAsync(request);

        Assert.NotEqual(0, daveCreates.ExitCode);
        Assert.Contains("Only operators", daveCreates.Stderr);
        Assert.Equal(HttpStatusCode.Forbidden, daveLists.StatusCode);
        Assert.NotEqual(0, duplicate.ExitCode);
        Assert.Contains("already exists", duplicate.Stderr);
        Assert.NotEqual(0, badName.ExitCode);
        Assert.Contains("not a valid user name", badName.Stderr);
        var users = AppUnderTest.Must(await platform.PaasAsync(null, "users"));
        Assert.DoesNotContain("mallory", users.Stdout);
        var stateFiles = Directory.GetFiles(platform.DataDirectory, "paas.db*");
        Assert.NotEmpty(stateFiles);
        foreach (var file in stateFiles)
        {
            var stored = System.Text.Encoding.ASCII.GetString(await File.ReadAllBytesAsync(file));
            Assert.DoesNotContain(dave.Token!, stored);
        }
    }
}
