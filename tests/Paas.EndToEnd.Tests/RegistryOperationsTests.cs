using System.Net;
using System.Net.Http.Headers;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// The registry as `make run` and paas-registry.service start it (deploy/registry/start.sh): a real Debian
/// docker-registry on a free loopback port with its own data directory, pushed to by the machine's engine.
/// </summary>
public sealed class RegistryOperationsTests(ITestOutputHelper log) : IAsyncLifetime
{
    private ImageRegistry _registry = null!;
    private readonly DockerClient _docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
    private readonly string _repository = "paas-e2e/registry-ops-" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync() => _registry = await ImageRegistry.StartAsync("127.0.0.1", bind: "127.0.0.1");

    public async Task DisposeAsync()
    {
        foreach (var image in await _docker.Images.ListImagesAsync(new ImagesListParameters
                 {
                     Filters = new Dictionary<string, IDictionary<string, bool>> { ["reference"] = new Dictionary<string, bool> { [_repository] = true } },
                 }))
        {
            await _docker.Images.DeleteImageAsync(image.ID, new ImageDeleteParameters { Force = true });
        }
        await _registry.DisposeAsync();
        _docker.Dispose();
    }

    [Fact]
    public async Task StartScript_RefusesAnAnonymousPush_AcceptsTheGeneratedCredentials_AndKeepsThemPrivate()
    {
        var image = await BusyboxImage.ImportAsync(_docker, _repository, "v1", "<h1>registry ops</h1>\n");
        var name = $"{_registry.LoopbackAddress}/{_repository}";
        await _docker.Images.TagImageAsync(image, new ImageTagParameters { RepositoryName = name, Tag = "v1" });

        var anonymous = new DockerProgress();
        await _docker.Images.PushImageAsync(name, new ImagePushParameters { Tag = "v1" }, new AuthConfig(), anonymous);
        var refusal = anonymous.Messages.FirstOrDefault(m => m.Error is not null || !string.IsNullOrEmpty(m.ErrorMessage));
        Assert.True(refusal is not null, "an anonymous push was accepted");
        log.WriteLine($"anonymous push: {refusal.Error?.Message ?? refusal.ErrorMessage}");
        Assert.Matches("basic auth|unauthorized|authentication required", refusal.Error?.Message ?? refusal.ErrorMessage);

        var digest = await _registry.PushAsync(_docker, image, _repository, "v1");
        Assert.StartsWith("sha256:", digest);

        // The API refuses anonymous reads too, and answers with the credentials.
        using var http = new HttpClient();
        var manifest = $"http://{_registry.LoopbackAddress}/v2/{_repository}/manifests/{digest}";
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(manifest)).StatusCode);
        using var authenticated = new HttpRequestMessage(HttpMethod.Get, manifest);
        authenticated.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{_registry.Credentials.Username}:{_registry.Credentials.Password}")));
        authenticated.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(authenticated)).StatusCode);

        // The password and its hash are the owner's alone.
        foreach (var file in new[] { "password", "htpasswd", "config.yml" })
        {
            var mode = File.GetUnixFileMode(Path.Combine(_registry.Directory, "registry", file));
            Assert.True(mode == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{file} is {mode}");
        }

        // A restart (garbage collection first, then serving) keeps the same credentials and the image.
        var password = _registry.Credentials.Password;
        _registry.Stop();
        await _registry.StartAgainAsync();
        Assert.Equal(password, _registry.Credentials.Password);
        Assert.Contains("registry garbage collection", _registry.Output);
        using var again = new HttpRequestMessage(HttpMethod.Get, manifest);
        again.Headers.Authorization = authenticated.Headers.Authorization;
        again.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(again)).StatusCode);
    }
}
