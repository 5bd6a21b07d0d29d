using System.Net;
using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>The controller describes its API in an OpenAPI document anyone may fetch.</summary>
[Collection(PlatformCollection.Name)]
public sealed class OpenApiTests(PlatformFixture platform)
{
    [Fact]
    public async Task OpenApiDocument_IsServedWithoutAToken_AndDescribesTheV1Api()
    {
        using var response = await platform.Http.GetAsync($"{platform.ApiUrl}/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith("3.", document.RootElement.GetProperty("openapi").GetString());
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/v1/apps", paths);
        Assert.Contains("/v1/apps/{name}", paths);
        Assert.Contains("/v1/apps/{name}/formation", paths);
        Assert.Contains("/v1/apps/{name}/runs", paths);
        Assert.Contains("/v1/apps/{name}/domains", paths);
        Assert.Contains("/v1/apps/{name}/domains/{hostname}", paths);
        Assert.DoesNotContain(paths, p => p.Contains(".git"));
        var run = document.RootElement.GetProperty("paths").GetProperty("/v1/apps/{name}/runs").GetProperty("post");
        Assert.Equal("runCommand", run.GetProperty("operationId").GetString());
        Assert.Contains("one-off", run.GetProperty("summary").GetString());
        Assert.Equal("bearer", run.GetProperty("security")[0].EnumerateObject().Single().Name);
        Assert.Equal("http", document.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("type").GetString());
        Assert.Equal("listDomains", document.RootElement.GetProperty("paths").GetProperty("/v1/apps/{name}/domains").GetProperty("get").GetProperty("operationId").GetString());
    }
}
