namespace Paas.Router.Observability;

/// <summary>
/// What the access log records about one request. A struct of references to strings the request already
/// has, so queuing it allocates nothing; the writer formats it off the request path. The query string
/// is left out on purpose: it often carries tokens, and access logs travel further than apps expect.
/// </summary>
public readonly record struct AccessLogEntry(
    DateTime Time,
    string? Host,
    string Method,
    string? Path,
    int Status,
    long Bytes,
    double DurationMs,
    double UpstreamMs,
    string? App,
    string? Instance,
    int Attempts,
    string RequestId,
    string? Error);
