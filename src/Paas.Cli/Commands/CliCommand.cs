namespace Paas.Cli.Commands;

/// <summary>One `paas` command: its name, a one-line summary, its usage and what it does.</summary>
public sealed record CliCommand(string Name, string Summary, string Usage, Func<ParsedArgs, CliContext, Task<int>> Run)
{
    /// <summary>Left out of `paas --help`, the command reference and completion: used by programs (git), not people.</summary>
    public bool Hidden { get; init; }
}
