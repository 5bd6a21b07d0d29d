using System.Reflection;
using System.Text.Json;
using Paas.Controller.Api;
using Paas.Controller.Auth;

namespace Paas.Controller.Dashboard;

/// <summary>
/// The web dashboard on the API's own port (same origin as /v1): its files under <c>/dashboard/</c>, embedded in
/// this assembly (no CDN, nothing fetched at run time), and its session: <c>POST /dashboard/session</c> trades an
/// API token for a session cookie and a CSRF token, <c>GET</c> says who is logged in, <c>DELETE</c> logs out.
/// Everything else the page shows comes from the ordinary /v1 API, under the same authorization.
/// </summary>
public static class DashboardEndpoints
{
    public const string Prefix = "/dashboard";
    private const string ResourcePrefix = "dashboard/";

    public sealed record LoginRequest(string? Token);

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    public static void MapDashboard(this IEndpointRouteBuilder app)
    {
        // Routing matches /dashboard and /dashboard/ alike; the page's relative links want the slash.
        app.MapGet(Prefix, (HttpContext context) => context.Request.Path.Value!.EndsWith('/')
            ? File("index.html") : Results.Redirect(Prefix + "/")).ExcludeFromDescription();
        app.MapGet(Prefix + "/assets/{file}", (string file) => File(file)).ExcludeFromDescription();
        app.MapPost(Prefix + "/session", Login).ExcludeFromDescription();
        app.MapGet(Prefix + "/session", Current).ExcludeFromDescription();
        app.MapDelete(Prefix + "/session", Logout).ExcludeFromDescription();
    }

    private static IResult File(string name)
    {
        var assembly = typeof(DashboardEndpoints).Assembly;
        if (name.Contains('/') || name.Contains("..") || assembly.GetManifestResourceStream(ResourcePrefix + name) is not { } stream)
            return Results.NotFound();
        var type = ContentTypes.GetValueOrDefault(Path.GetExtension(name), "application/octet-stream");
        return Results.Stream(stream, type);
    }

    private static IResult Login(HttpContext context, LoginRequest? body, TokenService tokens, DashboardSessions sessions)
    {
        if (tokens.Verify(body?.Token?.Trim()) is not { } token)
            return ApiError.Result(StatusCodes.Status401Unauthorized, "unauthorized", "That token is not valid: copy it from `paas login` or `paas tokens:create`.");
        var (cookie, expires) = sessions.Issue(token);
        context.Response.Cookies.Append(DashboardSessions.CookieName, cookie, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/",
            Expires = expires,
        });
        return Results.Json(Describe(token.User, token.Role, sessions.CsrfFor(cookie), expires));
    }

    private static IResult Current(HttpContext context, DashboardSessions sessions)
    {
        var cookie = context.Request.Cookies[DashboardSessions.CookieName];
        if (sessions.Verify(cookie) is not { } token)
            return ApiError.Result(StatusCodes.Status401Unauthorized, "unauthorized", "Not logged in: log in with an API token.");
        context.Response.Headers.CacheControl = "no-store";
        return Results.Json(Describe(token.User, token.Role, sessions.CsrfFor(cookie!), null));
    }

    private static IResult Logout(HttpContext context, DashboardSessions sessions)
    {
        var cookie = context.Request.Cookies[DashboardSessions.CookieName];
        // Logging out is a change too: without the CSRF token another site could sign a user out.
        if (sessions.Verify(cookie) is not null && !sessions.CsrfMatches(cookie!, context.Request.Headers[DashboardSessions.CsrfHeader]))
            return ApiError.Result(StatusCodes.Status403Forbidden, "csrf_required", "This change needs the dashboard's CSRF token in the X-CSRF-Token header: reload the page.");
        context.Response.Cookies.Delete(DashboardSessions.CookieName, new CookieOptions { Path = "/", HttpOnly = true, SameSite = SameSiteMode.Strict });
        return Results.NoContent();
    }

    private static object Describe(string user, string role, string csrf, DateTimeOffset? expires) =>
        new { user, role, @operator = role == TokenService.AdminRole, csrf_token = csrf, expires_at = expires };
}
