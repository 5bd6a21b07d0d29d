using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Paas.Controller.Certificates;

/// <summary>
/// A small RFC 8555 client: what HTTP-01 issuance needs and nothing more (account, order, authorizations,
/// challenge, finalize, download). Every request is a JWS (ES256) POST with a fresh nonce; a badNonce answer is
/// retried once with the nonce it carries (§6.5). Waits use the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class AcmeClient
{
    private const string JoseJson = "application/jose+json";
    private readonly HttpClient _http;
    private readonly Uri _directoryUrl;
    private readonly AcmeAccountKey _key;
    private readonly TimeProvider _time;
    private JsonObject? _directory;
    private string? _nonce;

    public AcmeClient(HttpClient http, Uri directoryUrl, AcmeAccountKey key, TimeProvider time, string? accountUrl = null)
    {
        _http = http;
        _directoryUrl = directoryUrl;
        _key = key;
        _time = time;
        AccountUrl = accountUrl;
    }

    /// <summary>The account's URL (the JWS "kid"); set by <see cref="RegisterAsync"/>.</summary>
    public string? AccountUrl { get; private set; }

    public AcmeAccountKey Key => _key;

    private async Task<string> DirectoryUrlAsync(string name, CancellationToken cancel)
    {
        if (_directory is null)
        {
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, _directoryUrl), cancel);
            _directory = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancel)) as JsonObject
                ?? throw new AcmeException($"{_directoryUrl} is not an ACME directory.");
        }
        return _directory[name]?.GetValue<string>() ?? throw new AcmeException($"The ACME directory {_directoryUrl} has no {name}.");
    }

    /// <summary>Finds or creates the account for this key (newAccount answers an existing key with its URL too).</summary>
    public async Task<string> RegisterAsync(string? email, CancellationToken cancel)
    {
        var payload = new JsonObject { ["termsOfServiceAgreed"] = true };
        if (!string.IsNullOrEmpty(email))
            payload["contact"] = new JsonArray("mailto:" + email);
        using var response = await PostAsync(await DirectoryUrlAsync("newAccount", cancel), payload, cancel, useJwk: true);
        AccountUrl = response.Headers.Location?.ToString() ?? throw new AcmeException("The ACME server created an account without telling its URL.");
        return AccountUrl;
    }

    public async Task<(string Url, JsonObject Order)> NewOrderAsync(IEnumerable<string> hostnames, CancellationToken cancel)
    {
        var identifiers = new JsonArray(hostnames.Select(h => (JsonNode)new JsonObject { ["type"] = "dns", ["value"] = h }).ToArray());
        using var response = await PostAsync(await DirectoryUrlAsync("newOrder", cancel), new JsonObject { ["identifiers"] = identifiers }, cancel);
        var url = response.Headers.Location?.ToString() ?? throw new AcmeException("The ACME server created an order without telling its URL.");
        return (url, await ReadObjectAsync(response, cancel));
    }

    /// <summary>POST-as-GET (§6.3): reads a resource with the account's signature.</summary>
    public async Task<JsonObject> GetAsync(string url, CancellationToken cancel)
    {
        using var response = await PostAsync(url, null, cancel);
        return await ReadObjectAsync(response, cancel);
    }

    /// <summary>Tells the server the challenge is ready to be validated (§7.5.1: an empty object).</summary>
    public async Task RespondAsync(string challengeUrl, CancellationToken cancel)
    {
        using var response = await PostAsync(challengeUrl, new JsonObject(), cancel);
    }

    public async Task<JsonObject> FinalizeAsync(string finalizeUrl, byte[] csrDer, CancellationToken cancel)
    {
        using var response = await PostAsync(finalizeUrl, new JsonObject { ["csr"] = AcmeAccountKey.Base64Url(csrDer) }, cancel);
        return await ReadObjectAsync(response, cancel);
    }

    public async Task<string> DownloadCertificateAsync(string url, CancellationToken cancel)
    {
        using var response = await PostAsync(url, null, cancel, accept: "application/pem-certificate-chain");
        return await response.Content.ReadAsStringAsync(cancel);
    }

    /// <summary>
    /// Polls <paramref name="url"/> until its status leaves <paramref name="waiting"/>, at most <paramref name="timeout"/>,
    /// waiting as Retry-After says (bounded to 0.2–5 s).
    /// </summary>
    public async Task<JsonObject> PollAsync(string url, string[] waiting, TimeSpan timeout, CancellationToken cancel)
    {
        var deadline = _time.GetUtcNow() + timeout;
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            var resource = await GetAsync(url, cancel);
            var status = resource["status"]?.GetValue<string>();
            if (status is null || !waiting.Contains(status))
                return resource;
            if (_time.GetUtcNow() >= deadline)
                throw new AcmeException($"The ACME server did not finish within {timeout.TotalSeconds:0} s (still {status}).");
            await Task.Delay(delay, _time, cancel);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
        }
    }

    private async Task<HttpResponseMessage> PostAsync(string url, JsonObject? payload, CancellationToken cancel, bool useJwk = false, string? accept = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            var nonce = _nonce ?? await NewNonceAsync(cancel);
            _nonce = null;
            var body = Jws(url, nonce, payload, useJwk);
            var response = await _http.SendAsync(Request(url, body, accept), cancel);
            if (response.Headers.TryGetValues("Replay-Nonce", out var nonces))
                _nonce = nonces.FirstOrDefault();
            if (response.IsSuccessStatusCode)
                return response;
            using (response)
            {
                var (type, detail) = await ProblemAsync(response, cancel);
                if (type == "urn:ietf:params:acme:error:badNonce" && attempt == 0)
                    continue;
                throw new AcmeException(detail, type);
            }
        }
    }

    private static HttpRequestMessage Request(string url, string body, string? accept)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(JoseJson);
        if (accept is not null)
            request.Headers.Accept.ParseAdd(accept);
        return request;
    }

    private async Task<string> NewNonceAsync(CancellationToken cancel)
    {
        var url = await DirectoryUrlAsync("newNonce", cancel);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, url), cancel);
        return response.Headers.TryGetValues("Replay-Nonce", out var nonces) ? nonces.First()
            : throw new AcmeException("The ACME server gave no nonce.");
    }

    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> request, CancellationToken cancel)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request(), cancel);
        }
        catch (HttpRequestException ex)
        {
            throw new AcmeException($"The ACME directory {_directoryUrl} cannot be reached: {ex.Message}");
        }
        if (!response.IsSuccessStatusCode)
        {
            using (response)
                throw new AcmeException($"The ACME directory {_directoryUrl} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        }
        return response;
    }

    private string Jws(string url, string nonce, JsonObject? payload, bool useJwk)
    {
        var header = new JsonObject { ["alg"] = "ES256", ["nonce"] = nonce, ["url"] = url };
        if (useJwk)
            header["jwk"] = new JsonObject(_key.Jwk.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        else
            header["kid"] = AccountUrl ?? throw new InvalidOperationException("Register the ACME account first.");
        var protectedPart = AcmeAccountKey.Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString()));
        // POST-as-GET signs an empty payload, not "{}" (§6.3).
        var payloadPart = payload is null ? "" : AcmeAccountKey.Base64Url(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var signature = AcmeAccountKey.Base64Url(_key.Sign(Encoding.ASCII.GetBytes(protectedPart + "." + payloadPart)));
        return new JsonObject { ["protected"] = protectedPart, ["payload"] = payloadPart, ["signature"] = signature }.ToJsonString();
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpResponseMessage response, CancellationToken cancel) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync(cancel)) as JsonObject
        ?? throw new AcmeException("The ACME server answered with something other than a JSON object.");

    private static async Task<(string? Type, string Detail)> ProblemAsync(HttpResponseMessage response, CancellationToken cancel)
    {
        var text = await response.Content.ReadAsStringAsync(cancel);
        try
        {
            if (JsonNode.Parse(text) is JsonObject problem)
            {
                var type = problem["type"]?.GetValue<string>();
                var detail = problem["detail"]?.GetValue<string>();
                return (type, Sentence(detail ?? type ?? $"The ACME server answered {(int)response.StatusCode}"));
            }
        }
        catch (JsonException)
        {
        }
        return (null, $"The ACME server answered {(int)response.StatusCode} {response.ReasonPhrase}.");
    }

    /// <summary>The server's detail as one sentence: trimmed, one line, ending with a full stop.</summary>
    public static string Sentence(string text)
    {
        var line = string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Trim();
        if (line.Length > 300)
            line = line[..297] + "...";
        return line.EndsWith('.') ? line : line + ".";
    }
}
