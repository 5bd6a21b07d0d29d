namespace Paas.Cli.Tests;

public sealed class TerminalTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void Wants_ColourOnlyOnATerminal_WithoutNoColorOrDumbTerm()
    {
        Assert.True(Terminal.Wants(redirected: false, Env(("TERM", "xterm"))));
        Assert.False(Terminal.Wants(redirected: true, Env(("TERM", "xterm"))));
        Assert.False(Terminal.Wants(redirected: false, Env(("NO_COLOR", "1"))));
        Assert.False(Terminal.Wants(redirected: false, Env(("TERM", "dumb"))));
    }

    [Fact]
    public void Paint_WrapsInEscapesOnlyWhenAsked()
    {
        Assert.Equal("\u001b[1;31m !    \u001b[0m", Terminal.Paint(" !    ", Terminal.Red, colour: true));
        Assert.Equal(" !    ", Terminal.Paint(" !    ", Terminal.Red, colour: false));
    }

    [Fact]
    public async Task Errors_PipedToAFile_HaveNoEscapeCodes()
    {
        var result = await CliProcess.RunAsync("no-such-command");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith(" !    'no-such-command' is not a paas command", result.Stderr);
        Assert.DoesNotContain('\u001b', result.Stderr);
    }
}
