using Paas.Controller.Api;
using Paas.Controller.Dashboard;

namespace Paas.Controller.Auth;

/// <summary>
/// The one gate in front of /v1: a valid token is required, and any route about an app (`/apps/{name}…`)
/// is answered as if the app did not exist for callers who neither own nor collaborate on it.
/// </summary>
public static class ApiAuthorization
{
    public static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var authenticator = http.RequestServices.GetRequiredService<RequestAuthenticator>();
        var token = authenticator.Authenticate(http.Request);
        // The dashboard's session cookie counts only when no Authorization header was sent (a bad token is not
        // rescued by a cookie), and a change made with it needs the session's CSRF token as well.
        if (token is null && http.Request.Headers.Authorization.Count == 0
            && http.Request.Cookies[DashboardSessions.CookieName] is { Length: > 0 } cookie)
        {
            var sessions = http.RequestServices.GetRequiredService<DashboardSessions>();
            token = sessions.Verify(cookie);
            if (token is not null && !IsSafe(http.Request.Method) && !sessions.CsrfMatches(cookie, http.Request.Headers[DashboardSessions.CsrfHeader]))
                return ApiError.Result(StatusCodes.Status403Forbidden, "csrf_required", "This change needs the dashboard's CSRF token in the X-CSRF-Token header: reload the page.");
        }
        if (token is null)
            return ApiError.Result(StatusCodes.Status401Unauthorized, "unauthorized", "A valid API token is required: run `paas login` or set PAAS_TOKEN.");
        var caller = Caller.From(token);
        caller.Attach(http);
        if (IsAppRoute(http) && http.GetRouteValue("name") is string app
            && !http.RequestServices.GetRequiredService<AppAccess>().CanSee(caller, app))
            return AppsEndpoints.NotFound(app);
        return await next(context);
    }

    private static bool IsSafe(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method);

    private static bool IsAppRoute(HttpContext http) =>
        http.GetEndpoint() is RouteEndpoint endpoint
        && endpoint.RoutePattern.RawText is { } pattern
        && pattern.Contains("/apps/{name}", StringComparison.Ordinal);

    /// <summary>The error for callers who can see an app but may not do this to it.</summary>
    public static IResult OwnerOnly(string app, string action) =>
        ApiError.Result(StatusCodes.Status403Forbidden, "forbidden", $"Only the owner of {app} or an operator can {action}.");

    public static IResult OperatorsOnly(string what) =>
        ApiError.Result(StatusCodes.Status403Forbidden, "forbidden", $"Only operators (admin role) can {what}.");
}
