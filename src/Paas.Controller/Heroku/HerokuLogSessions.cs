using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Paas.Controller.Heroku;

/// <summary>
/// Log sessions handed out by POST /apps/{app}/log-sessions. The CLI reads the session's URL with an
/// EventSource, which sends no API token, so the URL itself is the credential: random, used once, and
/// valid for a few minutes, like Heroku's logplex URLs.
/// </summary>
public sealed class HerokuLogSessions(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, (string App, HerokuLogQuery Query, DateTimeOffset Expires)> _sessions = new();

    public string Create(string app, HerokuLogQuery query)
    {
        var now = time.GetUtcNow();
        foreach (var (key, session) in _sessions)
            if (session.Expires <= now)
                _sessions.TryRemove(key, out _);
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        _sessions[id] = (app, query, now + Lifetime);
        return id;
    }

    /// <summary>The session's app and query, once; null when unknown, used or expired.</summary>
    public (string App, HerokuLogQuery Query)? Take(string id) =>
        _sessions.TryRemove(id, out var session) && session.Expires > time.GetUtcNow() ? (session.App, session.Query) : null;
}
