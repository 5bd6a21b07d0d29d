using System.Text.Json.Serialization;

namespace Paas.Core.Addons;

/// <summary>
/// What a cell needs to run one add-on server: its kind and memory, and the credentials its first start
/// creates. The spec carries the password, so neither side ever logs it.
/// </summary>
public sealed record AddonSpec(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("image")] string Image,
    [property: JsonPropertyName("memory_bytes")] long MemoryBytes,
    [property: JsonPropertyName("user")] string User,
    [property: JsonPropertyName("password")] string Password,
    [property: JsonPropertyName("database")] string Database);

/// <summary>An add-on server as its cell reads it back from the engine (container labels and volume).</summary>
public sealed record AddonState(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("cell")] string Cell,
    [property: JsonPropertyName("running")] bool Running,
    [property: JsonPropertyName("ready")] bool Ready,
    [property: JsonPropertyName("exit_code")] long ExitCode,
    [property: JsonPropertyName("since")] DateTimeOffset Since,
    [property: JsonPropertyName("size_bytes")] long SizeBytes);

/// <summary>A command run inside an add-on's container (a client session, a dump) and what it printed.</summary>
public sealed record AddonExecResult(
    [property: JsonPropertyName("exit_code")] long ExitCode,
    [property: JsonPropertyName("output")] string Output);
