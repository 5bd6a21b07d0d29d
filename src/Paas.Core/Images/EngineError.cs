using System.Text.Json;

namespace Paas.Core.Images;

/// <summary>
/// The reason a Docker engine gives for a failed call, as one line a user can read. The engine answers a
/// failed API call with a JSON body (<c>{"message":"Get \"http://…/v2/\": dial tcp …: connection refused"}</c>),
/// and a failure in a pull or push stream with the text alone; both become that text's first line, without a
/// closing period, so a caller can end its own sentence.
/// </summary>
public static class EngineError
{
    public static string Reason(string? text)
    {
        text = text?.Trim() ?? "";
        if (text.StartsWith('{'))
        {
            try
            {
                using var json = JsonDocument.Parse(text);
                if (json.RootElement.ValueKind == JsonValueKind.Object
                    && json.RootElement.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                    text = message.GetString() ?? "";
            }
            catch (JsonException)
            {
            }
        }
        return (text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no reason given").TrimEnd('.');
    }
}
