using System.Text.Json.Serialization;

namespace Paas.Controller.State;

/// <summary>
/// A persistent directory mounted into every instance of one process type of an app (`paas storage:mount`):
/// a named volume on one cell's engine. <see cref="Cell"/> is where the volume lives, set when the first
/// instance with it is placed (null until then); instances of that type are placed only there. Without
/// <see cref="Shared"/> the type runs at most one instance, so two processes never write the same files unawares.
/// </summary>
public sealed record VolumeRecord(
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("process")] string Process,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("volume")] string Volume,
    [property: JsonPropertyName("cell")] string? Cell,
    [property: JsonPropertyName("shared")] bool Shared,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt);
