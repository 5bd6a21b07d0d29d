namespace Paas.Core.Logs;

/// <summary>Which lines a reader wants: one source (<c>app</c>, <c>router</c>...), one process (<c>web.1</c>), or all.</summary>
public sealed record AppLogFilter(string? Source = null, string? Process = null)
{
    public static readonly AppLogFilter All = new();

    public bool Matches(AppLogLine line) =>
        (Source is null || line.Source == Source) && (Process is null || line.Process == Process);
}
