namespace Paas.Core.Logs;

/// <summary>
/// Names of the Redis keys that hold app logs, under the platform's prefix (see <see cref="Routing.RouteKeys"/>
/// for why a prefix rather than a database number).
/// </summary>
public sealed record LogKeys(string Prefix)
{
    /// <summary>Stream: one entry per log line of the app (fields <c>time</c>, <c>source</c>, <c>process</c>, <c>line</c>), capped in length.</summary>
    public string Stream(string app) => Prefix + "logs:" + app;

    /// <summary>
    /// Hash: container id → <see cref="LogCursor"/> of the last line a cell's collector wrote from it, so a
    /// restarted collector resumes where it stopped. Not under <c>logs:</c>, where an app could be named "cursors".
    /// </summary>
    public string Cursors(string cell) => Prefix + "log-cursors:" + cell;
}
