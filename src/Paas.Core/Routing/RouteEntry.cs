using System.Text.Json.Serialization;

namespace Paas.Core.Routing;

/// <summary>One live endpoint of an app, as the router sees it.</summary>
public sealed record RouteEntry(
    [property: JsonPropertyName("instance")] string Instance,
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("process")] string Process,
    [property: JsonPropertyName("release")] int Release,
    [property: JsonPropertyName("address")] string Address);
