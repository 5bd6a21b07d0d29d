using System.Text.Json.Serialization;

namespace Paas.Controller.Addons;

/// <summary>One add-on as `paas addons` shows it: desired state joined with what its cell reports. No credentials.</summary>
public sealed record AddonView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("service")] string Service,
    [property: JsonPropertyName("plan")] string Plan,
    [property: JsonPropertyName("memory_mb")] int MemoryMb,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("cell")] string Cell,
    [property: JsonPropertyName("host")] string Host,
    [property: JsonPropertyName("size_bytes")] long? SizeBytes,
    [property: JsonPropertyName("config_var")] string ConfigVar,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt)
{
    /// <summary>The other apps that share it and under which var (`paas addons:attach`).</summary>
    [JsonPropertyName("attachments")]
    public IReadOnlyList<State.AddonAttachment> Attachments { get; init; } = [];
}
