using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Paas.Core.Images;

/// <summary>
/// The few calls of the Distribution registry API (v2) the platform makes itself, with its credentials (basic
/// auth, as the registry's htpasswd asks): is it there, which tags a repository has and what they point at, and
/// deleting a manifest by digest (pruned releases). Layers are freed later by the registry's garbage
/// collection (deploy/registry/gc.sh); the engines push and pull, not this client. Plain HTTP: the platform's
/// registry is reached on the cluster's own network (docker daemons list it as an insecure registry).
/// </summary>
public sealed class RegistryClient(RegistryAccess access, HttpMessageHandler? handler = null, TimeSpan? timeout = null) : IDisposable
{
    // The manifest types engines push; HEAD and DELETE name the manifest by the digest of the stored type.
    private static readonly string[] ManifestTypes =
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ];

    private readonly HttpClient _http = new(handler ?? new SocketsHttpHandler { UseProxy = false }, disposeHandler: handler is null)
    {
        BaseAddress = new Uri($"http://{access.Address}/"),
        Timeout = timeout ?? TimeSpan.FromSeconds(10),
    };

    public string Address => access.Address;

    /// <summary>Succeeds when the registry answers its API root with these credentials; otherwise throws, saying why in one sentence.</summary>
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, "v2/", cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            throw new HttpRequestException($"the registry {Address} refused the credentials (401)");
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"the registry {Address} answered {(int)response.StatusCode}");
    }

    /// <summary>The repository's tags; none when the repository does not exist (yet, or any more).</summary>
    public async Task<IReadOnlyList<string>> TagsAsync(string repository, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, $"v2/{repository}/tags/list", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return [];
        await EnsureAsync(response, $"listing the tags of {repository}", cancellationToken);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return json.RootElement.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array
            ? tags.EnumerateArray().Select(t => t.GetString()).OfType<string>().ToList()
            : [];
    }

    /// <summary>The digest (sha256:…) of the manifest a tag or digest names, or null when the registry has none.</summary>
    public async Task<string?> DigestAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Head, $"v2/{repository}/manifests/{reference}", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return null;
        await EnsureAsync(response, $"reading the manifest {repository}:{reference}", cancellationToken);
        return response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault() : null;
    }

    /// <summary>Deletes a manifest (and with it every tag pointing at it). False when it was gone already.</summary>
    public async Task<bool> DeleteManifestAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Delete, $"v2/{repository}/manifests/{digest}", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return false;
        await EnsureAsync(response, $"deleting {repository}@{digest}", cancellationToken);
        return true;
    }

    /// <summary>`REG:PORT/paas/app-x@sha256:…` as (repository, digest); null for a reference without both.</summary>
    public static (string Repository, string Digest)? Parse(string reference)
    {
        var at = reference.IndexOf('@');
        var slash = reference.IndexOf('/');
        if (at < 0 || slash < 0 || slash > at)
            return null;
        return (reference[(slash + 1)..at], reference[(at + 1)..]);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (access.Username is { } user)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{access.Password}")));
        foreach (var type in ManifestTypes)
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        return await _http.SendAsync(request, cancellationToken);
    }

    private async Task EnsureAsync(HttpResponseMessage response, string doing, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
            return;
        var body = response.Content is null ? "" : await response.Content.ReadAsStringAsync(cancellationToken);
        throw new HttpRequestException($"The registry {Address} answered {(int)response.StatusCode} {EngineError.Reason(ExtractMessage(body))} when {doing}.");
    }

    /// <summary>Distribution's errors are {"errors":[{"code","message"}]}: the first message, or the body as it is.</summary>
    private static string ExtractMessage(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array
                && errors.EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } first
                && first.TryGetProperty("message", out var message))
                return message.GetString() ?? body;
        }
        catch (JsonException)
        {
        }
        return body;
    }

    public void Dispose() => _http.Dispose();
}
