using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Paas.Core.Runs;

/// <summary>What the user's terminal sends during an interactive run: typed bytes, or its new size.</summary>
public sealed record TerminalInput(byte[]? Bytes, int Columns = 0, int Rows = 0);

/// <summary>
/// The WebSocket framing of an interactive `paas run`, the same on both hops (CLI → controller → cell): the client's
/// first message is a JSON text start; then binary messages are keystrokes one way and terminal output the other;
/// a text message from the client is a resize ({"cols","rows"}); the server's one text message is the end
/// (exit code or error), then it closes. Binary for bytes because a TTY's output need not be UTF-8 on a boundary.
/// </summary>
public static class TerminalSession
{
    /// <summary>Start and control messages are small; a larger text message is not ours.</summary>
    public const int MaxTextMessage = 256 * 1024;

    /// <summary>The CLI's first message to the controller.</summary>
    public sealed record Start(
        [property: JsonPropertyName("command")] string? Command,
        [property: JsonPropertyName("timeout_seconds")] int? TimeoutSeconds,
        [property: JsonPropertyName("cols")] int Columns,
        [property: JsonPropertyName("rows")] int Rows,
        [property: JsonPropertyName("term")] string? Term);

    public sealed record Resize(
        [property: JsonPropertyName("cols")] int Columns,
        [property: JsonPropertyName("rows")] int Rows);

    public static Task SendJsonAsync(WebSocket socket, object value, CancellationToken ct) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(value), WebSocketMessageType.Text, true, ct);

    /// <summary>One whole message; null when the other side closed.</summary>
    public static async Task<(WebSocketMessageType Type, byte[] Data)?> ReceiveAsync(WebSocket socket, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var part = await socket.ReceiveAsync(buffer, ct);
            if (part.MessageType == WebSocketMessageType.Close)
                return null;
            message.Write(buffer, 0, part.Count);
            if (part.MessageType == WebSocketMessageType.Text && message.Length > MaxTextMessage)
                throw new InvalidDataException("A control message of the terminal session is too long.");
            if (part.EndOfMessage)
                return (part.MessageType, message.ToArray());
        }
    }

    /// <summary>The first (text) message, read as <typeparamref name="T"/>; null when it is missing or not JSON of that shape.</summary>
    public static async Task<T?> ReceiveJsonAsync<T>(WebSocket socket, CancellationToken ct) where T : class
    {
        if (await ReceiveAsync(socket, ct) is not ({ } type, { } data) || type != WebSocketMessageType.Text)
            return null;
        try
        {
            return JsonSerializer.Deserialize<T>(data);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The next keystrokes or resize from the client; null when it closed (or went away).</summary>
    public static async Task<TerminalInput?> ReadInputAsync(WebSocket socket, CancellationToken ct)
    {
        while (await ReceiveAsync(socket, ct) is ({ } type, { } data))
        {
            if (type == WebSocketMessageType.Binary)
                return new TerminalInput(data);
            Resize? size;
            try
            {
                size = JsonSerializer.Deserialize<Resize>(data);
            }
            catch (JsonException)
            {
                continue;
            }
            if (size is { Columns: > 0 and <= 10_000, Rows: > 0 and <= 10_000 })
                return new TerminalInput(null, size.Columns, size.Rows);
        }
        return null;
    }

    /// <summary>The ws:// (or wss://) address of an http(s):// one.</summary>
    public static Uri WebSocketUri(string httpUrl) =>
        new(httpUrl.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? "wss://" + httpUrl[8..]
            : httpUrl.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? "ws://" + httpUrl[7..] : httpUrl);

    public static string Text(byte[] data) => Encoding.UTF8.GetString(data);
}
