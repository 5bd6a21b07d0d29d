using System.Text.Json.Serialization;

namespace Paas.Core.Routing;

/// <summary>One live endpoint of an app, as the router sees it.</summary>
/// <param name="Cell">
/// The cell running the instance. When set, the route is live only while the cell's heartbeat key
/// (<see cref="RouteKeys.CellAlive"/>) exists; see <see cref="CellHeartbeat"/>. Null: never expires.
/// </param>
public sealed record RouteEntry(
    [property: JsonPropertyName("instance")] string Instance,
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("process")] string Process,
    [property: JsonPropertyName("release")] int Release,
    [property: JsonPropertyName("address")] string Address,
    [property: JsonPropertyName("cell"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Cell = null);
