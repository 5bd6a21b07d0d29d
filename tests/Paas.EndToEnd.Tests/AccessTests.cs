using System.Net;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>Who may do what, and what the router says when there is nothing to serve.</summary>
[Collection(PlatformCollection.Name)]
public sealed class AccessTests(PlatformFixture platform)
{
    [Fact]
    public async Task AppsCreate_RefusesBadNames_WithOneSentence()
    {
        var result = await platform.PaasAsync(null, "apps:create", "Bad_Name");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("must start with a lowercase letter", result.Stderr);
        var list = await platform.PaasAsync(null, "apps", "--json");
        Assert.DoesNotContain("Bad_Name", list.Stdout);
    }

    [Fact]
    public async Task AppsCreate_PrintsGitAndAppUrls_AndRefusesADuplicate()
    {
        var app = PlatformFixture.UniqueAppName("urls");

        var created = await platform.PaasAsync(null, "apps:create", app);
        var again = await platform.PaasAsync(null, "apps:create", app);

        Assert.Equal(0, created.ExitCode);
        Assert.Contains($"http://{app}.localhost:{platform.RouterPort}/", created.Stdout);
        Assert.Contains($"{platform.ApiUrl}/{app}.git", created.Stdout);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("already exists", again.Stderr);
    }

    [Fact]
    public async Task Push_WithoutCredentials_IsRefused_AndToAnUnknownApp_IsNotFound()
    {
        var app = PlatformFixture.UniqueAppName("auth");
        Assert.Equal(0, (await platform.PaasAsync(null, "apps:create", app)).ExitCode);
        var workTree = await platform.NewWorkTreeAsync("static");

        var anonymous = await platform.GitAsync(workTree, "push", $"{platform.ApiUrl}/{app}.git", "main");
        await platform.GitAsync(workTree, "remote", "add", "paas", $"{platform.ApiUrl}/{app}.git");
        Assert.Equal(0, (await platform.PaasAsync(workTree, "git:remote", app)).ExitCode);
        var unknown = await platform.GitAsync(workTree, "push", $"{platform.ApiUrl}/nosuchapp.git", "main");
        var config = await platform.GitAsync(workTree, "config", "--list", "--show-origin");

        Assert.NotEqual(0, anonymous.ExitCode);
        // git without a helper or terminal says it could not read a username: the server asked for credentials.
        Assert.Matches("Authentication failed|could not read Username", anonymous.Stderr);
        using var direct = await platform.Http.GetAsync($"{platform.ApiUrl}/{app}.git/info/refs?service=git-receive-pack");
        Assert.Equal(HttpStatusCode.Unauthorized, direct.StatusCode);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("not found", unknown.Stderr);
        var token = (await File.ReadAllTextAsync(Path.Combine(platform.DataDirectory, "admin-token"))).Trim();
        Assert.DoesNotContain(token, config.Stdout);
        Assert.DoesNotContain(token, platform.ControllerOutput);
    }

    [Fact]
    public async Task Api_BadBodiesAndUnknownRoutes_AnswerWithJsonErrors()
    {
        var token = (await File.ReadAllTextAsync(Path.Combine(platform.DataDirectory, "admin-token"))).Trim();
        using var badJson = new HttpRequestMessage(HttpMethod.Post, $"{platform.ApiUrl}/v1/apps")
        {
            Content = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"),
        };
        badJson.Headers.Authorization = new("Bearer", token);
        using var unknown = new HttpRequestMessage(HttpMethod.Get, $"{platform.ApiUrl}/v1/no-such-thing");
        unknown.Headers.Authorization = new("Bearer", token);

        using var badJsonResponse = await platform.Http.SendAsync(badJson);
        using var unknownResponse = await platform.Http.SendAsync(unknown);

        Assert.Equal(HttpStatusCode.BadRequest, badJsonResponse.StatusCode);
        Assert.Contains("\"id\":\"bad_request\"", await badJsonResponse.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, unknownResponse.StatusCode);
        Assert.Contains("\"id\":\"no_such_route\"", await unknownResponse.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Api_WithoutToken_Is401()
    {
        using var response = await platform.Http.GetAsync($"{platform.ApiUrl}/v1/apps");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("\"id\":\"unauthorized\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Router_UnknownHost_Is404_AndAppWithoutInstances_Is503()
    {
        var app = PlatformFixture.UniqueAppName("idle");
        Assert.Equal(0, (await platform.PaasAsync(null, "apps:create", app)).ExitCode);

        using var unknown = await platform.GetThroughRouterAsync("nobody-here.localhost");
        HttpResponseMessage? idle = null;
        for (var i = 0; i < 50; i++)
        {
            idle?.Dispose();
            idle = await platform.GetThroughRouterAsync(PlatformFixture.AppHost(app));
            if (idle.StatusCode != HttpStatusCode.NotFound) break;
            await Task.Delay(20);
        }

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("unknown_route", unknown.Headers.GetValues("X-Paas-Router-Error").Single());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, idle!.StatusCode);
        Assert.Equal("no_endpoints", idle.Headers.GetValues("X-Paas-Router-Error").Single());
        idle.Dispose();
    }
}
