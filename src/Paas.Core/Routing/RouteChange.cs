using System.Text.Json.Serialization;

namespace Paas.Core.Routing;

/// <summary>
/// The message published after each write to the routing hashes. <paramref name="Version"/> is the value of
/// <see cref="RouteKeys.Version"/> that write produced; messages without one (endpoint-down notices,
/// writers that predate the counter) are applied as they come.
/// </summary>
public sealed record RouteChange(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("value")] string? Value,
    [property: JsonPropertyName("version"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Version = null)
{
    /// <summary>key: hostname (or <c>*.domain</c>), value: app.</summary>
    public const string HostSet = "host-set";
    public const string HostDel = "host-del";

    /// <summary>key: instance id, value: the <see cref="RouteEntry"/> JSON written to the routes hash.</summary>
    public const string RouteSet = "route-set";
    public const string RouteDel = "route-del";

    /// <summary>key: app, value: the <see cref="AppRouteOptions"/> JSON written to the app-options hash.</summary>
    public const string AppOptionsSet = "app-options-set";
    public const string AppOptionsDel = "app-options-del";

    /// <summary>
    /// Published by a router (not the controller) when an instance refused a connection: key instance id,
    /// value the cool-down in milliseconds. Every router skips the instance for that long. Nothing is
    /// stored; a router that misses the message only learns it by failing a connection itself.
    /// </summary>
    public const string EndpointDown = "endpoint-down";
}
