using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Paas.Controller.State;

namespace Paas.Controller.Dashboard;

/// <summary>
/// The dashboard's browser sessions. Logging in with an API token sets a short-lived cookie naming that token
/// (by id, never the token) and its expiry, signed with a key kept in the state store, so every controller (a
/// standby too) verifies it without a shared session table. The CSRF token is derived from the cookie, so a page
/// that cannot read the cookie (HttpOnly) only learns it from the login answer or <c>GET /dashboard/session</c>,
/// which a cross-site page cannot read. Revoking the API token ends its sessions at once.
/// </summary>
public sealed class DashboardSessions(IStateStore database, TimeProvider time)
{
    public const string CookieName = "paas_session";
    public const string CsrfHeader = "X-CSRF-Token";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    // Created once per platform and shared through the store: a session made on one controller is valid on all.
    private readonly byte[] _key = Convert.FromHexString(database.GetOrCreateSetting("dashboard_session_key",
        () => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))));

    /// <summary>The cookie value for a session of <paramref name="token"/>, and when it expires.</summary>
    public (string Value, DateTimeOffset Expires) Issue(TokenRecord token)
    {
        var expires = time.GetUtcNow() + Lifetime;
        var payload = string.Join('~', token.User, token.Id, expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
        return ($"{payload}~{Sign("session|" + payload)}", expires);
    }

    /// <summary>The token a valid, unexpired cookie stands for; null for anything else (forged, expired, revoked).</summary>
    public TokenRecord? Verify(string? cookie)
    {
        if (string.IsNullOrEmpty(cookie) || cookie.Length > 400)
            return null;
        var parts = cookie.Split('~');
        if (parts.Length != 5)
            return null;
        var payload = string.Join('~', parts[..4]);
        if (!FixedTimeEquals(parts[4], Sign("session|" + payload)))
            return null;
        if (!long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || DateTimeOffset.FromUnixTimeSeconds(expires) <= time.GetUtcNow())
            return null;
        return database.ListTokens(parts[0]).FirstOrDefault(t => t.Id == parts[1]);
    }

    /// <summary>The CSRF token that goes with a session cookie.</summary>
    public string CsrfFor(string cookie) => Sign("csrf|" + cookie);

    public bool CsrfMatches(string cookie, string? presented) =>
        !string.IsNullOrEmpty(presented) && FixedTimeEquals(presented, CsrfFor(cookie));

    // '~' separates the parts: user names may hold dots, never a tilde (UserName).
    private string Sign(string text) => Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(text)));

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));
}
