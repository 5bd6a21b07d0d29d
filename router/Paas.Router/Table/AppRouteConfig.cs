using System.Text.Json;
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

    public static bool TryParse(string? json, out AppRouteConfig config)
    {
        config = Default;
        if (string.IsNullOrWhiteSpace(json))
        {
            return false;
        }

        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            var balancing = root.TryGetProperty("balancing", out var b) && b.ValueKind == JsonValueKind.String
                && string.Equals(b.GetString(), AppRouteOptions.LeastRequests, StringComparison.OrdinalIgnoreCase)
                    ? BalancingPolicy.LeastRequests
                    : BalancingPolicy.RoundRobin;

            string? cookie = null;
            if (root.TryGetProperty("sticky_cookie", out var c) && c.ValueKind == JsonValueKind.String && IsCookieName(c.GetString()))
            {
                cookie = c.GetString();
            }

            TimeSpan? timeout = null;
            if (root.TryGetProperty("timeout_seconds", out var t) && t.ValueKind == JsonValueKind.Number
                && t.TryGetDouble(out var seconds) && seconds > 0 && seconds <= 86400)
            {
                timeout = TimeSpan.FromSeconds(seconds);
            }

            long? maxBody = null;
            if (root.TryGetProperty("max_body_bytes", out var m) && m.ValueKind == JsonValueKind.Number
                && m.TryGetInt64(out var bytes) && bytes >= 0)
            {
                maxBody = bytes;
            }

            config = new AppRouteConfig(balancing, cookie, timeout, maxBody);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    // RFC 6265 token: a name with separators or spaces would produce a Set-Cookie header browsers misread.
    private static bool IsCookieName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 64
        && name.All(ch => ch > 32 && ch < 127 && "()<>@,;:\\\"/[]?={}".IndexOf(ch) < 0);
}
