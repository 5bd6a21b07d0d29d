using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Paas.Cli;

/// <summary>The CLI's only way to the platform: JSON over HTTP to the controller's API.</summary>
public sealed class ApiClient(CliConfig config)
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(config.ApiUrl + "/"), Timeout = TimeSpan.FromMinutes(5) };

    public string ApiUrl => config.ApiUrl;

    public Task<JsonElement> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    public Task<JsonElement> PostAsync(string path, object body) => SendAsync(HttpMethod.Post, path, body);

    public Task<JsonElement> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path, null);

    public Task<JsonElement> PatchAsync(string path, object body) => SendAsync(HttpMethod.Patch, path, body);

    public Task<JsonElement> PutAsync(string path, object body) => SendAsync(HttpMethod.Put, path, body);

    /// <summary>
    /// POSTs and hands over each line of an NDJSON answer as it arrives (a run's output), for as long as the
    /// server streams: the client's timeout covers only the wait for the response headers.
    /// </summary>
    public async Task PostStreamingAsync(string path, object body, Func<JsonElement, Task> onLine)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path.TrimStart('/')) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RequireToken());
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (!response.IsSuccessStatusCode)
                throw new CliException(ErrorMessage(response.StatusCode, await response.Content.ReadAsStringAsync()));
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.Length == 0)
                    continue;
                using var doc = JsonDocument.Parse(line);
                await onLine(doc.RootElement);
            }
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"Cannot reach the Paas API at {config.ApiUrl}: {e.Message}");
        }
        catch (IOException e)
        {
            throw new CliException($"The connection to the Paas API was lost: {e.Message}");
        }
    }

    /// <summary>
    /// A GET whose body is read as it arrives (a log tail): the caller reads the stream until it ends or
    /// it cancels. Errors are reported as for other calls.
    /// </summary>
    public async Task<Stream> OpenStreamAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path.TrimStart('/'));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RequireToken());
        HttpResponseMessage response;
        try
        {
            // Only the wait for the headers is bounded by the client's timeout; the body may flow for hours.
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"Cannot reach the Paas API at {config.ApiUrl}: {e.Message}");
        }
        if (!response.IsSuccessStatusCode)
        {
            using (response)
                throw new CliException(ErrorMessage(response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken)));
        }
        return await response.Content.ReadAsStreamAsync(cancellationToken);
    }

    private string RequireToken() => config.Token
        ?? throw new CliException($"No API token found: run `paas login`, set PAAS_TOKEN, or run on the platform host where {config.TokenSource} exists.");

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RequireToken());
        if (body is not null)
            request.Content = JsonContent.Create(body);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"Cannot reach the Paas API at {config.ApiUrl}: {e.Message}");
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
                throw new CliException(ErrorMessage(response.StatusCode, text));
            return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        }
    }

    private static string ErrorMessage(HttpStatusCode status, string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.TryGetProperty("message", out var message))
                return message.GetString() ?? status.ToString();
        }
        catch (JsonException)
        {
        }
        return $"The API answered {(int)status} {status}.";
    }
}
