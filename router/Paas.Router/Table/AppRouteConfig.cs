using Paas.Core.Routing;

namespace Paas.Router.Table;

public enum BalancingPolicy
{
    RoundRobin,
    LeastRequests,
}

/// <summary>
/// An app's routing options as the router uses them, parsed from the app-options hash
/// (<see cref="AppRouteOptions"/>). Unknown or invalid values fall back to defaults rather than
/// making the app unroutable: a typo in an option must not take an app offline.
/// </summary>
public sealed record AppRouteConfig(BalancingPolicy Balancing, string? StickyCookie, TimeSpan? Timeout, long? MaxBodyBytes)
{
    public static AppRouteConfig Default { get; } = new(BalancingPolicy.RoundRobin, null, null, null);

    /// <summary>Every request gets the maintenance page (503, Retry-After); the instances keep running.</summary>
    public bool Maintenance { get; init; }

    /// <summary>Plain-HTTP requests get a 308 to HTTPS (see <see cref="AppRouteOptions.HttpsRedirect"/>).</summary>
    public bool HttpsRedirect { get; init; }

    public static bool TryParse(string? json, out AppRouteConfig config)
    {
        config = Default;
        if (!RoutingJson.TryReadOptions(json, out var options))
        {
            return false;
        }

        // Values out of range fall back to the default one by one: one bad option must not cost the others.
        var balancing = string.Equals(options.Balancing, AppRouteOptions.LeastRequests, StringComparison.OrdinalIgnoreCase)
            ? BalancingPolicy.LeastRequests
            : BalancingPolicy.RoundRobin;
        var cookie = AppRouteOptions.IsCookieName(options.StickyCookie) ? options.StickyCookie : null;
        TimeSpan? timeout = options.TimeoutSeconds is double seconds && seconds > 0 && seconds <= 86400 ? TimeSpan.FromSeconds(seconds) : null;
        long? maxBody = options.MaxBodyBytes is >= 0 ? options.MaxBodyBytes : null;
        config = new AppRouteConfig(balancing, cookie, timeout, maxBody) { Maintenance = options.Maintenance == true, HttpsRedirect = options.HttpsRedirect == true };
        return true;
    }
}
