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
/// <param name="Maintenance">True: every request gets the router's 503 maintenance page; the instances keep running.</param>
/// <param name="HttpsRedirect">True: plain-HTTP requests get a 308 to the same URL on the router's TLS port (ACME challenges excepted).</param>
public sealed record AppRouteOptions(
    [property: JsonPropertyName("balancing"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Balancing = null,
    [property: JsonPropertyName("sticky_cookie"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? StickyCookie = null,
    [property: JsonPropertyName("timeout_seconds"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? TimeoutSeconds = null,
    [property: JsonPropertyName("max_body_bytes"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? MaxBodyBytes = null,
    [property: JsonPropertyName("maintenance"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Maintenance = null,
    [property: JsonPropertyName("https_redirect"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? HttpsRedirect = null)
{
    public const string RoundRobin = "round-robin";
    public const string LeastRequests = "least-requests";

    /// <summary>Seconds a client is told to wait (<c>Retry-After</c>) while the app is in maintenance.</summary>
    public const int MaintenanceRetryAfterSeconds = 60;

    /// <summary>Nothing set: every option at the router's default.</summary>
    public static AppRouteOptions None { get; } = new();

    /// <summary>The range a user may set (`paas routes:set --timeout`); the router tolerates more, but an hour is a hung request.</summary>
    public const int MaxTimeoutSeconds = 3600;

    /// <summary>Why these options cannot be set, in one sentence; null when they can.</summary>
    public string? Problem() =>
        TimeoutSeconds is double t && (double.IsNaN(t) || t < 1 || t > MaxTimeoutSeconds)
            ? $"The timeout must be between 1 and {MaxTimeoutSeconds} seconds, not {t}."
        : StickyCookie is not null && !IsCookieName(StickyCookie)
            ? $"'{StickyCookie}' is not a cookie name: use up to 64 letters, digits or !#$%&'*+-.^_`|~ (an RFC 6265 token)."
        : Balancing is not null && Balancing != RoundRobin && Balancing != LeastRequests
            ? $"Balancing must be {RoundRobin} or {LeastRequests}, not '{Balancing}'."
        : MaxBodyBytes is < 0
            ? "The body limit cannot be negative."
        : null;

    /// <summary>
    /// RFC 6265 token: a name with separators or spaces would produce a Set-Cookie header browsers misread.
    /// The one rule for the controller (refusing it) and the router (ignoring it).
    /// </summary>
    public static bool IsCookieName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 64
        && name.All(ch => ch > 32 && ch < 127 && "()<>@,;:\\\"/[]?={}".IndexOf(ch) < 0);
}
