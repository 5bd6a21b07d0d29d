using System.Text.Json.Serialization;

namespace Paas.Core.Instances;

/// <summary>A named volume on the cell's engine, mounted read-write at <see cref="Path"/> in the instance.</summary>
public sealed record VolumeMount(
    [property: JsonPropertyName("volume")] string Volume,
    [property: JsonPropertyName("path")] string Path);
