using Paas.Controller.Auth;
using Paas.Controller.Dashboard;
using Paas.Controller.State;

namespace Paas.Controller.Tests.Dashboard;

/// <summary>Dashboard sessions: signed cookies that name a token, expire, end with the token, and carry their own CSRF token.</summary>
public sealed class DashboardSessionsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "paas-sessions-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly ManualTime _time = new(new DateTimeOffset(2026, 1, 31, 10, 0, 0, TimeSpan.Zero));
    private readonly PlatformDatabase _db;
    private readonly TokenService _tokens;

    public DashboardSessionsTests()
    {
        Directory.CreateDirectory(_dir);
        _db = new PlatformDatabase(new SqliteFile(Path.Combine(_dir, "paas.db")), _time);
        _db.TryCreateUser("alice.smith", TokenService.UserRole);
        _tokens = new TokenService(_db);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TokenRecord Token(out string secret, out string id)
    {
        (secret, id) = _tokens.Issue("alice.smith", "test");
        return _tokens.Verify(secret)!;
    }

    [Fact]
    public void Verify_AnIssuedCookie_NamesItsToken_AndHoldsNotTheTokenItself()
    {
        var sessions = new DashboardSessions(_db, _time);
        var token = Token(out var secret, out _);
        var (cookie, expires) = sessions.Issue(token);

        Assert.Equal(token.Id, sessions.Verify(cookie)?.Id);
        Assert.Equal("alice.smith", sessions.Verify(cookie)?.User);
        Assert.DoesNotContain(secret, cookie);
        Assert.Equal(_time.GetUtcNow() + DashboardSessions.Lifetime, expires);
    }

    [Fact]
    public void Verify_SharesTheKeyThroughTheStore_SoAnotherControllerAcceptsTheCookie()
    {
        var cookie = new DashboardSessions(_db, _time).Issue(Token(out _, out _)).Value;

        Assert.NotNull(new DashboardSessions(_db, _time).Verify(cookie));
    }

    [Fact]
    public void Verify_RefusesExpiredForgedAndRevoked()
    {
        var sessions = new DashboardSessions(_db, _time);
        var token = Token(out _, out var id);
        var cookie = sessions.Issue(token).Value;
        var parts = cookie.Split('~');

        // Another user's name, or a later expiry, with the old signature.
        Assert.Null(sessions.Verify(string.Join('~', "bob", parts[1], parts[2], parts[3], parts[4])));
        Assert.Null(sessions.Verify(string.Join('~', parts[0], parts[1], (long.Parse(parts[2]) + 3600).ToString(), parts[3], parts[4])));
        Assert.Null(sessions.Verify("garbage"));
        Assert.Null(sessions.Verify(""));

        _time.Advance(DashboardSessions.Lifetime - TimeSpan.FromSeconds(1));
        Assert.NotNull(sessions.Verify(cookie));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(sessions.Verify(cookie));

        var fresh = sessions.Issue(token).Value;
        Assert.True(_db.DeleteToken("alice.smith", id));
        Assert.Null(sessions.Verify(fresh));
    }

    [Fact]
    public void Csrf_MatchesOnlyItsOwnSession()
    {
        var sessions = new DashboardSessions(_db, _time);
        var token = Token(out _, out _);
        var one = sessions.Issue(token).Value;
        var two = sessions.Issue(token).Value;

        Assert.True(sessions.CsrfMatches(one, sessions.CsrfFor(one)));
        Assert.False(sessions.CsrfMatches(one, sessions.CsrfFor(two)));
        Assert.False(sessions.CsrfMatches(one, null));
        Assert.False(sessions.CsrfMatches(one, ""));
    }
}
