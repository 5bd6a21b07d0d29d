using Paas.Router.Table;

namespace Paas.Router.Balancing;

/// <summary>
/// Sticky sessions: the app names a cookie; the router answers with that cookie set to the instance
/// id and sends later requests carrying it to the same instance while it is routable and not cooling.
/// </summary>
public static class StickySession
{
    public static Destination? Find(AppPool pool, string? instance, long now)
    {
        if (string.IsNullOrEmpty(instance))
        {
            return null;
        }

        foreach (var endpoint in pool.Routable)
        {
            if (string.Equals(endpoint.Instance, instance, StringComparison.Ordinal))
            {
                return endpoint.State.IsCooling(now) ? null : endpoint;
            }
        }

        return null;
    }

    public static string SetCookieValue(string cookie, string instance, bool secure) =>
        $"{cookie}={instance}; Path=/; HttpOnly; SameSite=Lax{(secure ? "; Secure" : "")}";
}
