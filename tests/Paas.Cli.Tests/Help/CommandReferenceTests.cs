using Paas.Cli.Commands;
using Paas.Cli.Help;

namespace Paas.Cli.Tests.Help;

public sealed class CommandReferenceTests
{
    private static readonly Func<ParsedArgs, CliContext, Task<int>> Nothing = (_, _) => Task.FromResult(0);

    [Fact]
    public async Task Readme_CommandReference_IsWhatTheCliGenerates()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(CliProcess.RepoRoot(), "README.md"));
        var generated = await CliProcess.RunAsync("help", "--markdown");

        Assert.Equal(0, generated.ExitCode);
        var section = CommandReference.Section(readme);
        Assert.True(section is not null, "README.md lacks the command reference markers");
        Assert.True(section == generated.Stdout, "README's command reference is out of date: run `make docs`.");
    }

    [Fact]
    public async Task HelpMarkdown_ListsEveryVisibleCommandWithItsUsageAndSummary_NotHiddenOnes()
    {
        var markdown = (await CliProcess.RunAsync("help", "--markdown")).Stdout;

        Assert.Contains("| `paas run [-a APP] [--timeout SECONDS] [--no-tty] -- COMMAND [ARGS...]` | run a one-off command", markdown);
        Assert.Contains("| `paas domains:add HOSTNAME [-a APP] [--json]` |", markdown);
        Assert.Contains("| `paas completion bash\\|zsh\\|fish` |", markdown);
        Assert.DoesNotContain("git:credential", markdown);
    }

    [Fact]
    public void Markdown_EscapesPipesSoTableCellsStayWhole()
    {
        var markdown = CommandReference.Markdown([new CliCommand("x", "a|b *c*", "paas x (--a | --b)", Nothing)]);

        Assert.Contains("| `paas x (--a \\| --b)` | a\\|b \\*c\\* |", markdown);
    }

    [Fact]
    public void Section_IsTheTextBetweenTheMarkers_OrNullWithoutThem()
    {
        var readme = $"intro\n{CommandReference.BeginMarker}\n| a | b |\n{CommandReference.EndMarker}\nrest\n";

        Assert.Equal("| a | b |\n", CommandReference.Section(readme));
        Assert.Null(CommandReference.Section("no markers here"));
    }

    [Theory]
    [InlineData("apps")]
    [InlineData("apps:info")]
    [InlineData("releases")]
    [InlineData("ps")]
    [InlineData("events")]
    [InlineData("cells")]
    [InlineData("buildpacks")]
    [InlineData("domains")]
    [InlineData("domains:add")]
    [InlineData("domains:remove")]
    public async Task ListingAndInfoCommands_OfferJson_AndAnswerHelp(string command)
    {
        var help = await CliProcess.RunAsync(command, "--help");

        Assert.Equal(0, help.ExitCode);
        Assert.StartsWith($"Usage: paas {command} ", help.Stdout);
        Assert.Contains("--json", help.Stdout);
    }

    [Fact]
    public async Task HelpTopic_ShowsOneCommandsUsage()
    {
        var help = await CliProcess.RunAsync("help", "run");

        Assert.Equal(0, help.ExitCode);
        Assert.Contains("Usage: paas run [-a APP]", help.Stdout);
    }
}
