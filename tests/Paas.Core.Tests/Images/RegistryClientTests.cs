using System.Net;
using Paas.Core.Images;

namespace Paas.Core.Tests.Images;

public sealed class RegistryClientTests
{
    /// <summary>Answers every request with <paramref name="answer"/>, recording what was asked.</summary>
    private sealed class FakeRegistry(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        public List<HttpRequestMessage> Requests { get; } = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            return Task.FromResult(answer(request));
        }
    }

    private static readonly RegistryAccess Access = new("10.0.0.1:5000", "paas", "s3cret");

    [Fact]
    public void Parse_SplitsARegistryReference_IntoRepositoryAndDigest()
    {
        Assert.Equal(("paas/app-web", "sha256:abc"), RegistryClient.Parse("10.0.0.1:5000/paas/app-web@sha256:abc"));
        Assert.Null(RegistryClient.Parse("paas/app-web:v3"));
    }

    [Fact]
    public async Task Ping_SaysTheCredentialsWereRefused_On401()
    {
        using var client = new RegistryClient(Access, new FakeRegistry(_ => new HttpResponseMessage(HttpStatusCode.Unauthorized)));
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.PingAsync(CancellationToken.None));
        Assert.Equal("the registry 10.0.0.1:5000 refused the credentials (401)", e.Message);
    }

    [Fact]
    public async Task DeleteManifest_SendsBasicAuth_AndADeleteByDigest_AndAGoneOneIsFalse()
    {
        var fake = new FakeRegistry(r => new HttpResponseMessage(r.RequestUri!.AbsolutePath.EndsWith("sha256:gone") ? HttpStatusCode.NotFound : HttpStatusCode.Accepted));
        using var client = new RegistryClient(Access, fake);

        Assert.True(await client.DeleteManifestAsync("paas/app-web", "sha256:abc", CancellationToken.None));
        Assert.False(await client.DeleteManifestAsync("paas/app-web", "sha256:gone", CancellationToken.None));

        var request = fake.Requests[0];
        Assert.Equal(HttpMethod.Delete, request.Method);
        Assert.Equal("http://10.0.0.1:5000/v2/paas/app-web/manifests/sha256:abc", request.RequestUri!.ToString());
        Assert.Equal("Basic", request.Headers.Authorization!.Scheme);
        Assert.Equal("paas:s3cret", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(request.Headers.Authorization.Parameter!)));
    }

    [Fact]
    public async Task Tags_OfAnUnknownRepository_AreNone_AndAnErrorIsOneSentenceWithTheRegistrysReason()
    {
        using var unknown = new RegistryClient(Access, new FakeRegistry(_ => new HttpResponseMessage(HttpStatusCode.NotFound)));
        Assert.Empty(await unknown.TagsAsync("paas/app-web", CancellationToken.None));

        using var failing = new RegistryClient(Access, new FakeRegistry(_ => new HttpResponseMessage(HttpStatusCode.MethodNotAllowed)
        {
            Content = new StringContent("""{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}"""),
        }));
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => failing.DeleteManifestAsync("paas/app-web", "sha256:abc", CancellationToken.None));
        Assert.Equal("The registry 10.0.0.1:5000 answered 405 The operation is unsupported when deleting paas/app-web@sha256:abc.", e.Message);
    }
}
