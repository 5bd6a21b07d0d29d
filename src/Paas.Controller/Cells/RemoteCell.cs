using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Paas.Controller.Instances;
using Paas.Core.Cells;
using Paas.Core.Instances;
using Paas.Staging.OneOff;
using Paas.Staging.Remote;

namespace Paas.Controller.Cells;

/// <summary>A cell reached through its agent's HTTP API.</summary>
public sealed class RemoteCell : ICell
{
    private readonly HttpClient _http;
    // Tasks (staging, one-offs) last as long as their own limits allow: each call is bounded by its caller's
    // limit plus a margin, and by TaskStream.Silence between lines, rather than by one client-wide timeout.
    private readonly HttpClient _tasks;
    private readonly HttpMessageHandler _handler;
    private readonly string _secret;

    /// <param name="timeout">How long one call may take (a hung agent must not hang the caller): 3 minutes by default, for image pulls.</param>
    public RemoteCell(string name, string url, string secret, HttpMessageHandler handler, TimeSpan? timeout = null)
    {
        Name = name;
        Url = url;
        _handler = handler;
        _secret = secret;
        _http = new HttpClient(handler, disposeHandler: false) { BaseAddress = new Uri(url.TrimEnd('/') + "/"), Timeout = timeout ?? TimeSpan.FromMinutes(3) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        _tasks = new HttpClient(handler, disposeHandler: false) { BaseAddress = _http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        _tasks.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
    }

    /// <summary>
    /// Stages on this cell: <paramref name="writeBundle"/> writes the <see cref="StagingBundle"/> as the request streams,
    /// the build's lines come back as they are printed. Throws <see cref="CellTaskException"/> with the cell's reason
    /// when staging fails there, <see cref="CellUnavailableException"/> naming the cell when it cannot be reached or
    /// goes away (or falls silent) mid-stage, or takes longer than <paramref name="bound"/>. When the cell answers
    /// while its push to the registry still runs, <c>Push</c> reads the rest of the answer in the background: the
    /// push's lines on <paramref name="pushOutput"/>, then the digest reference, or a <see cref="CellTaskException"/>
    /// (the push failed) or <see cref="CellUnavailableException"/> (the cell went away) with the reason.
    /// </summary>
    public async Task<(StagedImage Image, Task<string>? Push)> StageAsync(Func<Stream, CancellationToken, Task> writeBundle, TimeSpan bound, Func<string, Task> output,
        Func<string, Task> pushOutput, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/staging") { Content = new StreamingContent(writeBundle) };
        // Not linked to the caller's token for good: the push may outlive the deploy (a single host's `git push`
        // returns before it ends), so the caller cancels only until the push is handed over; then only the bound holds.
        var limit = new CancellationTokenSource(bound);
        var caller = cancellationToken.Register(limit.Cancel);
        HttpResponseMessage? response = null;
        StreamReader? reader = null;
        var handedOver = false;
        try
        {
            var outcome = await CallTaskAsync(async () =>
            {
                response = await _tasks.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
                if (!response.IsSuccessStatusCode)
                    await ReadAsync<JsonElement?>(response, limit.Token);
                reader = new StreamReader(await response.Content.ReadAsStreamAsync(limit.Token));
                return await TaskStream.ReadAsync(reader, output, limit.Token);
            }, "staging", bound, cancellationToken);
            var staged = outcome.Staged ?? throw new CellUnavailableException($"Cell {Name} at {Url} ended staging without a result.");
            if (!staged.Pushing)
                return (staged, null);
            handedOver = true;
            caller.Dispose();
            return (staged, ReadPushAsync());
        }
        finally
        {
            if (!handedOver)
                Release();
        }

        async Task<string> ReadPushAsync()
        {
            try
            {
                var pushed = await CallTaskAsync(() => TaskStream.ReadAsync(reader!, pushOutput, limit.Token), "pushing the image", bound, CancellationToken.None);
                return pushed.PushError is { } error ? throw new CellTaskException(error)
                    : pushed.Pushed ?? throw new CellUnavailableException($"Cell {Name} at {Url} ended the image push without a result.");
            }
            finally
            {
                Release();
            }
        }

        void Release()
        {
            caller.Dispose();
            reader?.Dispose();
            response?.Dispose();
            request.Dispose();
            limit.Dispose();
        }
    }

    /// <summary>Runs a one-off command on this cell (its image must be there: <see cref="PrepareImageAsync"/>); errors as for <see cref="StageAsync"/>.</summary>
    public async Task<OneOffResult> RunAsync(OneOffJob job, TimeSpan bound, Func<string, Task> output, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/runs") { Content = JsonContent.Create(job) };
        var outcome = await RunTaskAsync(request, "running a one-off command", bound, output, cancellationToken);
        return outcome.Ran ?? throw new CellUnavailableException($"Cell {Name} at {Url} ended the run without a result.");
    }

    /// <summary>
    /// Runs a one-off command on this cell with a terminal: the user's <paramref name="terminal"/> (a WebSocket speaking
    /// <see cref="Paas.Core.Runs.TerminalSession"/>) is joined to the cell's, keystrokes and resizes one way, the TTY's bytes
    /// the other, until the cell says how it ended. Errors as for <see cref="RunAsync"/>; an
    /// <see cref="OperationCanceledException"/> when the user went away first.
    /// </summary>
    public async Task<OneOffResult> RunInteractiveAsync(InteractiveJob job, System.Net.WebSockets.WebSocket terminal, TimeSpan bound, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(bound);
        using var cell = new System.Net.WebSockets.ClientWebSocket();
        // The same cell secret as every call to the agent, in the handshake's header.
        cell.Options.SetRequestHeader("Authorization", "Bearer " + _secret);
        try
        {
            using var invoker = new HttpMessageInvoker(_handler, disposeHandler: false);
            await cell.ConnectAsync(new Uri(Paas.Core.Runs.TerminalSession.WebSocketUri(Url.TrimEnd('/')), "/v1/runs/tty"), invoker, limit.Token);
            await Paas.Core.Runs.TerminalSession.SendJsonAsync(cell, job, limit.Token);
        }
        catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or HttpRequestException)
        {
            throw new CellUnavailableException($"Cell {Name} at {Url} could not be reached for an interactive run: {e.Message.TrimEnd('.')}.");
        }
        // Keystrokes and resizes pass through as they are; when the user closes, the cell hears it and removes the container.
        var typing = Task.Run(async () =>
        {
            try
            {
                while (await Paas.Core.Runs.TerminalSession.ReceiveAsync(terminal, limit.Token) is ({ } type, { } data))
                    await cell.SendAsync(data, type, true, limit.Token);
                await cell.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
            }
            catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or OperationCanceledException or IOException)
            {
                cell.Abort();
            }
        }, CancellationToken.None);
        try
        {
            while (await Paas.Core.Runs.TerminalSession.ReceiveAsync(cell, limit.Token) is ({ } type, { } data))
            {
                if (type == System.Net.WebSockets.WebSocketMessageType.Binary)
                {
                    await terminal.SendAsync(data, type, true, limit.Token);
                    continue;
                }
                var outcome = JsonSerializer.Deserialize<TaskMessage>(data)
                    ?? throw new CellUnavailableException($"Cell {Name} at {Url} ended the interactive run without a result.");
                return outcome.Error is { } error ? throw new CellTaskException(error)
                    : outcome.Ran ?? throw new CellUnavailableException($"Cell {Name} at {Url} ended the interactive run without a result.");
            }
        }
        catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or IOException && !cancellationToken.IsCancellationRequested && !typing.IsCompleted)
        {
            throw new CellUnavailableException($"Cell {Name} at {Url} went away during an interactive run: its answer ended before the outcome.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CellUnavailableException($"Cell {Name} at {Url} did not finish the interactive run within {bound.TotalMinutes:0} minutes.");
        }
        if (typing.IsCompleted)
            throw new OperationCanceledException("The user's terminal went away.");
        throw new CellUnavailableException($"Cell {Name} at {Url} went away during an interactive run: its answer ended before the outcome.");
    }

    private async Task<TaskMessage> RunTaskAsync(HttpRequestMessage request, string doing, TimeSpan bound, Func<string, Task> output, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(bound);
        return await CallTaskAsync(async () =>
        {
            using var response = await _tasks.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            if (!response.IsSuccessStatusCode)
                await ReadAsync<JsonElement?>(response, limit.Token);
            return await TaskStream.ReadAsync(await response.Content.ReadAsStreamAsync(limit.Token), output, limit.Token);
        }, doing, bound, cancellationToken);
    }

    /// <summary>One task's answer, read by <paramref name="read"/>: its error sentence, or why the cell did not answer, as exceptions naming the cell.</summary>
    private async Task<TaskMessage> CallTaskAsync(Func<Task<TaskMessage>> read, string doing, TimeSpan bound, CancellationToken cancellationToken)
    {
        try
        {
            var outcome = await read();
            return outcome.Error is { } error ? throw new CellTaskException(error) : outcome;
        }
        catch (HttpRequestException e)
        {
            throw new CellUnavailableException($"Cell {Name} at {Url} could not be reached for {doing}: {e.Message.TrimEnd('.')}.");
        }
        catch (TimeoutException e)
        {
            // Its host vanished (or hangs): packets are swallowed, nothing closes the connection.
            throw new CellUnavailableException($"Cell {Name} at {Url} stopped answering while {doing}: {e.Message.TrimEnd('.')}.");
        }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException)
        {
            // The agent died: its connection closed or was reset before the outcome line. The task is lost with it.
            throw new CellUnavailableException($"Cell {Name} at {Url} went away while {doing}: its answer ended before the outcome.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CellUnavailableException($"Cell {Name} at {Url} did not finish {doing} within {bound.TotalMinutes:0} minutes.");
        }
    }

    /// <summary>A request body written as it is sent (chunked), so a large push is never held in memory.</summary>
    private sealed class StreamingContent(Func<Stream, CancellationToken, Task> write) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => write(stream, CancellationToken.None);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) => write(stream, cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    public string Name { get; }
    public string Url { get; }

    public async Task<InstanceState> StartAsync(InstanceSpec spec, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => _http.PostAsJsonAsync("v1/instances", spec, cancellationToken), cancellationToken);
        return await ReadAsync<InstanceState>(response, cancellationToken);
    }

    public async Task<InstanceState?> RestartAsync(string instanceId, long memoryBytes, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => _http.PostAsync($"v1/instances/{Uri.EscapeDataString(instanceId)}/restart?memoryBytes={memoryBytes}", null, cancellationToken), cancellationToken);
        // 404: nothing to start again there (an agent older than this call answers the same), so a new instance is started instead.
        if (response.StatusCode == HttpStatusCode.NotFound)
            return null;
        return await ReadAsync<InstanceState>(response, cancellationToken);
    }

    public async Task<bool> PrepareImageAsync(string image, Func<string, Task> progress, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/images/prepare") { Content = JsonContent.Create(new { image }) };
        using var response = await SendAsync(() => _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken), cancellationToken);
        if (!response.IsSuccessStatusCode)
            await ReadAsync<JsonElement?>(response, cancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            using var message = JsonDocument.Parse(line);
            var root = message.RootElement;
            if (root.TryGetProperty("progress", out var text))
                await progress(text.GetString() ?? "");
            else if (root.TryGetProperty("error", out var error))
                throw new ImageUnavailableException(error.GetString() ?? $"Cell {Name} could not get the image.");
            else if (root.TryGetProperty("pulled", out var pulled))
                return pulled.GetBoolean();
        }
        throw new CellUnavailableException($"Cell {Name} at {Url} stopped answering while getting the image.");
    }

    public async Task<IReadOnlyList<string>> PruneImagesAsync(string app, IReadOnlyCollection<string> keep, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => _http.PostAsJsonAsync("v1/images/prune", new { app, keep }, cancellationToken), cancellationToken);
        return await ReadAsync<List<string>>(response, cancellationToken);
    }

    public async Task<HealthResult> WaitHealthyAsync(InstanceState instance, HealthCheckSpec check, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => _http.PostAsJsonAsync("v1/instances/wait-healthy", new { instance, check, timeoutSeconds = timeout.TotalSeconds }, cancellationToken), cancellationToken);
        return await ReadAsync<HealthResult>(response, cancellationToken);
    }

    public async Task StopAsync(string instanceId, TimeSpan grace, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => _http.DeleteAsync($"v1/instances/{Uri.EscapeDataString(instanceId)}?graceSeconds={grace.TotalSeconds}", cancellationToken), cancellationToken);
        await ReadAsync<JsonElement?>(response, cancellationToken);
    }

    public async Task<IReadOnlyList<InstanceState>> ListAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => _http.GetAsync("v1/instances", cancellationToken), cancellationToken);
        return await ReadAsync<List<InstanceState>>(response, cancellationToken);
    }

    public async Task<IReadOnlyList<InstanceState>> ListAsync(string app, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => _http.GetAsync($"v1/instances?app={Uri.EscapeDataString(app)}", cancellationToken), cancellationToken);
        // Filtered here too: an agent from before the filter ignores the parameter and answers with everything.
        return (await ReadAsync<List<InstanceState>>(response, cancellationToken)).Where(i => i.App == app).ToList();
    }

    // Add-on servers (Paas.Cell.Addons.AddonContainers on the agent).

    public async Task<Paas.Core.Addons.AddonState> StartAddonAsync(Paas.Core.Addons.AddonSpec spec, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => _http.PostAsJsonAsync("v1/addons", spec, cancellationToken), cancellationToken);
        return await ReadAsync<Paas.Core.Addons.AddonState>(response, cancellationToken);
    }

    public async Task<IReadOnlyList<Paas.Core.Addons.AddonState>> ListAddonsAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => _http.GetAsync("v1/addons", cancellationToken), cancellationToken);
        return await ReadAsync<List<Paas.Core.Addons.AddonState>>(response, cancellationToken);
    }

    public async Task RemoveAddonAsync(string id, bool volume, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => _http.DeleteAsync($"v1/addons/{Uri.EscapeDataString(id)}?volume={(volume ? "true" : "false")}", cancellationToken), cancellationToken);
        await ReadAsync<JsonElement?>(response, cancellationToken);
    }

    public async Task<Paas.Core.Addons.AddonExecResult> ExecAddonAsync(string id, IReadOnlyList<string> command, string? stdin, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => _http.PostAsJsonAsync($"v1/addons/{Uri.EscapeDataString(id)}/exec", new { command, stdin }, cancellationToken), cancellationToken);
        return await ReadAsync<Paas.Core.Addons.AddonExecResult>(response, cancellationToken);
    }

    /// <summary>Copies what <paramref name="command"/> prints in the add-on's container to <paramref name="destination"/>, reporting bytes so far.</summary>
    public async Task<long> DumpAddonAsync(string id, IReadOnlyList<string> command, Stream destination, Func<long, Task> progress, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/addons/{Uri.EscapeDataString(id)}/dump") { Content = JsonContent.Create(new { command, stdin = (string?)null }) };
        using var response = await SendAsync(() => _tasks.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken), cancellationToken);
        if (!response.IsSuccessStatusCode)
            await ReadAsync<JsonElement?>(response, cancellationToken);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[81920];
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                total += read;
                await progress(total);
            }
            return total;
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new CellTaskException($"The dump on cell {Name} ended before it was complete (its agent's log has the reason)");
        }
    }

    /// <summary>Runs <paramref name="command"/> in the add-on's container with <paramref name="source"/> as its input; its exit code and errors.</summary>
    public async Task<Paas.Core.Addons.AddonExecResult> RestoreAddonAsync(string id, IReadOnlyList<string> command, Stream source, CancellationToken cancellationToken)
    {
        var query = Uri.EscapeDataString(JsonSerializer.Serialize(command));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/addons/{Uri.EscapeDataString(id)}/restore?command={query}") { Content = new StreamContent(source) };
        using var response = await SendAsync(() => _tasks.SendAsync(request, cancellationToken), cancellationToken);
        return await ReadAsync<Paas.Core.Addons.AddonExecResult>(response, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAsync(Func<Task<HttpResponseMessage>> send, CancellationToken cancellationToken)
    {
        try
        {
            return await send();
        }
        catch (HttpRequestException e)
        {
            throw new CellUnavailableException($"Cell {Name} at {Url} is unreachable: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient's timeout is a cancellation; callers (the convergence loop, a rollout) stop on a
            // real cancellation, so a hung agent must surface as what it is: an unavailable cell.
            throw new CellUnavailableException($"Cell {Name} at {Url} did not answer within {_http.Timeout.TotalSeconds:0} s.");
        }
    }

    private async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.NoContent)
            return default!;
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            string message;
            try
            {
                message = JsonDocument.Parse(text).RootElement.GetProperty("message").GetString() ?? text;
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                message = $"cell {Name} answered {(int)response.StatusCode}";
            }
            throw new DeployException(message.TrimEnd('.'));
        }
        return (await response.Content.ReadFromJsonAsync<T>(cancellationToken))!;
    }
}
