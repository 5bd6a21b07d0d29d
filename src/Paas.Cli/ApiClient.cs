using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Paas.Cli;

/// <summary>The CLI's only way to the platform: JSON over HTTP to the controller's API.</summary>
public sealed class ApiClient(CliConfig config, TimeSpan? timeout = null)
{
    /// <summary>How long a call may wait for the API's answer (a rollout behind a config change can take minutes).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    private readonly TimeSpan _timeout = timeout ?? DefaultTimeout;
    private readonly HttpClient _http = new() { BaseAddress = new Uri(config.ApiUrl + "/"), Timeout = Timeout.InfiniteTimeSpan };

    public string ApiUrl => config.ApiUrl;

    /// <summary>GET, read into the API's own response type (Paas.Core.Api); an answer of another shape is one sentence.</summary>
    public async Task<T> GetAsync<T>(string path) => Read<T>(await GetAsync(path), "GET", path);

    public async Task<T> PostAsync<T>(string path, object body) => Read<T>(await PostAsync(path, body), "POST", path);

    public async Task<T> PatchAsync<T>(string path, object body) => Read<T>(await PatchAsync(path, body), "PATCH", path);

    private T Read<T>(JsonElement json, string method, string path)
    {
        try
        {
            return json.Deserialize<T>(Paas.Core.Api.ApiJson.Strict) ?? throw new JsonException("the answer is empty");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
        {
            throw UnexpectedShape(method, path, e.Message);
        }
    }

    private CliException UnexpectedShape(string method, string path, string detail) =>
        new($"The Paas API at {config.ApiUrl} answered {method} /{path.TrimStart('/').Split('?')[0]} with a shape this CLI does not understand " +
            $"({detail.Split('\n')[0].TrimEnd('.')}); the CLI and the platform are probably different versions.");

    private CliException TimedOut() =>
        new($"The Paas API at {config.ApiUrl} did not answer within {_timeout.TotalSeconds:0.#} s; try again, or check the platform with `paas cells`.");

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
            using var headers = new CancellationTokenSource(_timeout);
            HttpResponseMessage answer;
            try
            {
                answer = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headers.Token);
            }
            catch (OperationCanceledException) when (headers.IsCancellationRequested)
            {
                throw TimedOut();
            }
            using var response = answer;
            if (!response.IsSuccessStatusCode)
                throw new CliException(ErrorMessage(response.StatusCode, await response.Content.ReadAsStringAsync()));
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.Length == 0)
                    continue;
                JsonDocument doc;
                try
                {
                    doc = JsonDocument.Parse(line);
                }
                catch (JsonException)
                {
                    throw UnexpectedShape("POST", path, "a line that is not JSON");
                }
                using (doc)
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
    /// Sends a long operation's request asking for its progress (<c>Accept: application/x-ndjson</c>) and hands over each
    /// <see cref="Paas.Core.Api.ProgressEvent"/> as it arrives, until the final one, which is returned, or until
    /// <paramref name="onEvent"/> answers false (it has seen enough: null is returned). Cancelling stops the waiting only:
    /// the operation goes on on the platform. The timeout covers only the wait for the response headers.
    /// </summary>
    public async Task<Paas.Core.Api.ProgressEvent?> FollowAsync(HttpMethod method, string path, object body, Func<Paas.Core.Api.ProgressEvent, bool> onEvent,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/')) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RequireToken());
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(Paas.Core.Api.ProgressEvent.MediaType));
        try
        {
            using var headers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            headers.CancelAfter(_timeout);
            HttpResponseMessage answer;
            try
            {
                answer = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headers.Token);
            }
            catch (OperationCanceledException) when (headers.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw TimedOut();
            }
            using var response = answer;
            if (!response.IsSuccessStatusCode)
                throw new CliException(ErrorMessage(response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken)));
            if (response.Content.Headers.ContentType?.MediaType != Paas.Core.Api.ProgressEvent.MediaType)
                throw UnexpectedShape(method.Method, path, "no progress stream");
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.Length == 0)
                    continue;
                Paas.Core.Api.ProgressEvent progress;
                try
                {
                    progress = JsonSerializer.Deserialize<Paas.Core.Api.ProgressEvent>(line, Paas.Core.Api.ApiJson.Strict) ?? throw new JsonException("an empty line");
                }
                catch (Exception e) when (e is JsonException or NotSupportedException)
                {
                    throw UnexpectedShape(method.Method, path, e.Message);
                }
                if (progress.IsFinal)
                    return progress.Outcome is null ? throw UnexpectedShape(method.Method, path, "a last line without its outcome") : progress;
                if (!onEvent(progress))
                    return null;
            }
            throw new CliException($"The Paas API at {config.ApiUrl} ended the progress of {method.Method} /{path.TrimStart('/').Split('?')[0]} before the operation ended; see `paas ps` and `paas releases`.");
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"Cannot reach the Paas API at {config.ApiUrl}: {e.Message}");
        }
        catch (IOException e) when (!cancellationToken.IsCancellationRequested)
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
            // Only the wait for the headers is bounded by the timeout; the body may flow for hours.
            using var headers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            headers.CancelAfter(_timeout);
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headers.Token);
            }
            catch (OperationCanceledException) when (headers.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw TimedOut();
            }
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

    /// <summary>
    /// Opens a WebSocket to the API (an interactive run): the token goes in the handshake's Authorization header, never
    /// in the address. A refusal is one sentence, as for other calls.
    /// </summary>
    public async Task<System.Net.WebSockets.ClientWebSocket> ConnectWebSocketAsync(string path, CancellationToken cancellationToken)
    {
        var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + RequireToken());
        socket.Options.CollectHttpResponseDetails = true;
        // Keystrokes may pause for minutes; pings keep proxies from closing an idle session.
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(20);
        var uri = Paas.Core.Runs.TerminalSession.WebSocketUri(config.ApiUrl.TrimEnd('/') + "/" + path.TrimStart('/'));
        using var headers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        headers.CancelAfter(_timeout);
        try
        {
            await socket.ConnectAsync(uri, headers.Token);
            return socket;
        }
        catch (System.Net.WebSockets.WebSocketException e)
        {
            var status = socket.HttpStatusCode;
            socket.Dispose();
            throw new CliException(status switch
            {
                HttpStatusCode.Unauthorized => "The API refused the token: run `paas login` again.",
                HttpStatusCode.Forbidden => "You may not run commands in this app.",
                HttpStatusCode.NotFound => "The app was not found, or has no release yet (push first).",
                0 => $"Cannot reach the Paas API at {config.ApiUrl}: {e.Message}",
                _ => $"The API answered {(int)status} {status} instead of opening the terminal session.",
            });
        }
        catch (OperationCanceledException) when (headers.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw TimedOut();
        }
    }

    private string RequireToken() => config.Token
        ?? throw new CliException($"No API token found: run `paas login`, set PAAS_TOKEN, or run on the platform host where {config.TokenSource} exists.");

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RequireToken());
        if (body is not null)
            request.Content = JsonContent.Create(body);
        using var deadline = new CancellationTokenSource(_timeout);
        HttpResponseMessage response;
        string text;
        try
        {
            response = await _http.SendAsync(request, deadline.Token);
            text = await response.Content.ReadAsStringAsync(deadline.Token);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"Cannot reach the Paas API at {config.ApiUrl}: {e.Message}");
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw TimedOut();
        }
        catch (IOException e)
        {
            throw new CliException($"The connection to the Paas API was lost: {e.Message}");
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw new CliException(ErrorMessage(response.StatusCode, text));
            try
            {
                return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (JsonException)
            {
                throw UnexpectedShape(method.Method, path, "not JSON");
            }
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
