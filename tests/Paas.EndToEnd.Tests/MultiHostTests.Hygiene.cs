using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// Hygiene across hosts (the fixture keeps 2 releases, PAAS_KEEP_RELEASES): a release that is pruned leaves the
/// registry (its manifest is deleted by digest) and every cell's engine, while kept releases still pull and the
/// running one stays.
/// </summary>
public sealed partial class MultiHostTests
{
    [Fact]
    public async Task PrunedRelease_IsDeletedFromTheRegistryAndEveryCell_WhileKeptReleasesStillPull_AndTheRunningOneStays()
    {
        var app = await SpreadOverThreeHostsAsync("hygiene");
        foreach (var version in new[] { 2, 3 })
        {
            await File.WriteAllTextAsync(Path.Combine(app.WorkTree, "index.html"), $"<h1>Hello from static v{version}</h1>\n");
            await platform.CommitAllAsync(app.WorkTree, $"v{version}");
            AppUnderTest.Must(await platform.GitAsync(app.WorkTree, "push", "paas", "main"));
        }
        Assert.Contains("Hello from static v3", await app.GetAsync());
        var images = new Dictionary<int, string>();
        // "v1".."v3" below are the three pushes, releases v2..v4: release v1 is the app's "Initial release" (no image).
        foreach (var version in new[] { 1, 2, 3 })
        {
            var release = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("releases:info", $"v{version + 1}", "--json")).Stdout).RootElement;
            images[version] = release.GetProperty("registry_image").GetString()!;
        }

        // The registry: v1's manifest is gone, v2's and v3's are there.
        Assert.Equal(HttpStatusCode.NotFound, await ManifestStatusAsync(images[1]));
        Assert.Equal(HttpStatusCode.OK, await ManifestStatusAsync(images[2]));
        Assert.Equal(HttpStatusCode.OK, await ManifestStatusAsync(images[3]));
        // The build output follows its release: gone with the pruned one, there for the kept ones.
        var prunedOutput = await app.PaasAsync("releases:output", "v2");
        Assert.NotEqual(0, prunedOutput.ExitCode);
        Assert.Contains("has no build output", prunedOutput.Stderr);
        Assert.Contains("-----> Released v4", AppUnderTest.Must(await app.PaasAsync("releases:output", "v4")).Stdout);

        // Every host ran v1, v2 and v3 (web=3 over three hosts): v1 is gone from each engine, v3 runs on each.
        foreach (var (host, _) in MultiHostPlatform.HostLayout)
        {
            var engine = platform.Host(host).DockerClient;
            await Assert.ThrowsAsync<DockerImageNotFoundException>(() => engine.Images.InspectImageAsync(OnHost(images[1])));
            var running = Assert.Single(await platform.ContainersOnAsync(host, app.Name), c => c.State == "running");
            Assert.Equal(OnHost(images[3]), running.Image);
            await engine.Images.InspectImageAsync(OnHost(images[3]));
        }

        // A kept release still pulls (from the registry, not from a copy: h1's is removed first); the pruned one does not.
        var h1 = platform.Host("h1");
        try
        {
            await h1.DockerClient.Images.DeleteImageAsync(OnHost(images[2]), new ImageDeleteParameters { Force = true });
        }
        catch (DockerImageNotFoundException)
        {
        }
        await h1.PullAsync(OnHost(images[2]), platform.Registry.Credentials);
        // The engine answers 404 at once (DockerApiException) or reports it in the pull's progress (InvalidOperationException).
        var pruned = await Assert.ThrowsAnyAsync<Exception>(() => h1.PullAsync(OnHost(images[1]), platform.Registry.Credentials));
        log.WriteLine($"pulling pruned v1: {pruned.Message}");
        Assert.Matches("manifest unknown|not found", pruned.Message);
        Assert.Contains("Hello from static v3", await app.GetAsync());
    }

    /// <summary>A release's image at the address hosts reach the registry by.</summary>
    private string OnHost(string image) => platform.Registry.Address + image[image.IndexOf('/')..];

    private async Task<HttpStatusCode> ManifestStatusAsync(string image)
    {
        var at = image.IndexOf('@');
        var repository = image[(image.IndexOf('/') + 1)..at];
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{platform.Registry.LoopbackAddress}/v2/{repository}/manifests/{image[(at + 1)..]}");
        var credentials = platform.Registry.Credentials;
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{credentials.Username}:{credentials.Password}")));
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
