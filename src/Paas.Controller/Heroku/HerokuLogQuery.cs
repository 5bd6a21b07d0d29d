namespace Paas.Controller.Heroku;

/// <summary>What `heroku logs` asked for: the last <see cref="Lines"/> lines, optionally of one source and one dyno (web.1) or process type (web), then new ones when tailing.</summary>
public sealed record HerokuLogQuery(int Lines, string? Source, string? Dyno, bool Tail);
