using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Paas.Controller.Releases;
using Paas.Controller.State;
using Paas.Core.Images;

namespace Paas.Controller.Tests.Releases;

/// <summary>
/// A rollback's image check (ReleaseService.RollbackAsync): on several hosts the release's image is in the registry,
/// not necessarily in the controller's engine, and a rollback to it must not be refused.
/// </summary>
public sealed class ReleaseImagesTests
{
    private const string Digest = "sha256:0123456789abcdef";

    private static readonly ReleaseRecord V2 = new("web", 2, "paas/app-web:v2", "abc1234", "static", new Dictionary<string, string> { ["web"] = "serve" }, DateTimeOffset.UnixEpoch)
    {
        RegistryImage = $"10.0.0.1:5000/paas/app-web@{Digest}",
    };

    /// <summary>A registry that has the manifests named in <paramref name="digests"/> (HEAD by digest), or answers <paramref name="status"/>.</summary>
    private sealed class FakeRegistry(HttpStatusCode? status, params string[] digests) : HttpMessageHandler
    {
        public int Asked { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Asked++;
            if (status is { } fixedStatus)
                return Task.FromResult(new HttpResponseMessage(fixedStatus));
            var digest = request.RequestUri!.AbsolutePath.Split('/').Last();
            var response = new HttpResponseMessage(digests.Contains(digest) ? HttpStatusCode.OK : HttpStatusCode.NotFound);
            response.Headers.Add("Docker-Content-Digest", digest);
            return Task.FromResult(response);
        }
    }

    private static ReleaseImages Images(FakeRegistry? registry, params string[] localTags) =>
        new(registry is null ? null : new RegistryClient(new RegistryAccess("10.0.0.1:5000", "paas", "pw"), registry),
            (_, _) => Task.FromResult<IEnumerable<string>>(localTags), NullLogger<ReleaseImages>.Instance);

    [Fact]
    public async Task InTheRegistry_ButNotInTheControllersEngine_Exists()
    {
        var registry = new FakeRegistry(null, Digest);
        Assert.True(await Images(registry).ExistAsync(V2, CancellationToken.None));
        Assert.Equal(1, registry.Asked);
    }

    [Fact]
    public async Task GoneFromTheRegistry_AndFromTheEngine_DoesNotExist()
    {
        Assert.False(await Images(new FakeRegistry(null)).ExistAsync(V2, CancellationToken.None));
    }

    [Fact]
    public async Task RegistryDown_FallsBackToTheControllersEngine()
    {
        Assert.True(await Images(new FakeRegistry(HttpStatusCode.ServiceUnavailable), "paas/app-web:v2").ExistAsync(V2, CancellationToken.None));
        Assert.False(await Images(new FakeRegistry(HttpStatusCode.ServiceUnavailable), "paas/app-web:v3").ExistAsync(V2, CancellationToken.None));
    }

    [Fact]
    public async Task WithoutARegistry_OrARegistryImage_OnlyTheEngineCounts()
    {
        Assert.True(await Images(null, "paas/app-web:v2").ExistAsync(V2, CancellationToken.None));
        Assert.False(await Images(null).ExistAsync(V2, CancellationToken.None));
        var registry = new FakeRegistry(null, Digest);
        Assert.False(await Images(registry).ExistAsync(V2 with { RegistryImage = null }, CancellationToken.None));
        Assert.Equal(0, registry.Asked);
    }
}
