using System.Text.Json.Serialization;

namespace Paas.Core.Routing;

/// <summary>The message published after each write to the routing hashes.</summary>
public sealed record RouteChange(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("value")] string? Value)
{
    public const string HostSet = "host-set";
    public const string HostDel = "host-del";
    public const string RouteSet = "route-set";
    public const string RouteDel = "route-del";
}
