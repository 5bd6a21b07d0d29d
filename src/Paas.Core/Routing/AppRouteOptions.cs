using System.Text.Json.Serialization;

namespace Paas.Core.Routing;

/// <summary>
/// Per-app routing options, stored as JSON in the <see cref="RouteKeys.AppOptions"/> hash under the app
/// name. Every property is optional; an absent one means the router's default.
/// </summary>
/// <param name="Balancing"><see cref="RoundRobin"/> (default) or <see cref="LeastRequests"/>.</param>
/// <param name="StickyCookie">Cookie name for sticky sessions (e.g. <c>JSESSIONID</c>); null: not sticky.</param>
/// <param name="TimeoutSeconds">Backend idle timeout before the router answers 504.</param>
/// <param name="MaxBodyBytes">Largest request body accepted; larger gets 413.</param>
public sealed record AppRouteOptions(
    [property: JsonPropertyName("balancing"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Balancing = null,
    [property: JsonPropertyName("sticky_cookie"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? StickyCookie = null,
    [property: JsonPropertyName("timeout_seconds"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? TimeoutSeconds = null,
    [property: JsonPropertyName("max_body_bytes"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? MaxBodyBytes = null)
{
    public const string RoundRobin = "round-robin";
    public const string LeastRequests = "least-requests";
}
