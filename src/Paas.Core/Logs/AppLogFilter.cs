namespace Paas.Core.Logs;

/// <summary>
/// Which lines a reader wants: one source (<c>app</c>, <c>router</c>...), one process (<c>web.1</c>) or every
/// process of a type (<c>web</c>, as `heroku logs --dyno web` means it), or all.
/// </summary>
public sealed record AppLogFilter(string? Source = null, string? Process = null)
{
    public static readonly AppLogFilter All = new();

    public bool Matches(AppLogLine line) =>
        (Source is null || line.Source == Source) && (Process is null || line.Process == Process || IsOfType(line.Process));

    private bool IsOfType(string process) =>
        !Process!.Contains('.') && process.Length > Process.Length && process[Process.Length] == '.' && process.StartsWith(Process, StringComparison.Ordinal);
}
