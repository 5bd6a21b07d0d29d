namespace Paas.Controller.Heroku;

/// <summary>
/// An app's log lines in Heroku's format (<c>2026-01-01T12:00:00.000000+00:00 app[web.1]: text</c>) for log sessions.
/// Kept behind this interface so the log-session endpoints do not depend on where logs are stored.
/// </summary>
public interface IHerokuLogSource
{
    /// <summary>The last lines matching the query, oldest first; with <see cref="HerokuLogQuery.Tail"/> then every new one until cancelled.</summary>
    IAsyncEnumerable<string> ReadAsync(string app, HerokuLogQuery query, CancellationToken cancellationToken);
}
