namespace Paas.Cli;

/// <summary>A failure to report as one sentence on stderr, with the given exit code.</summary>
public sealed class CliException(string message, int exitCode = 1) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
