using System.Diagnostics;
using Paas.Cli.Commands;
using Paas.Cli.Help;

namespace Paas.Cli.Tests.Help;

public sealed class CompletionScriptTests
{
    private static readonly Func<ParsedArgs, CliContext, Task<int>> Nothing = (_, _) => Task.FromResult(0);

    [Fact]
    public void FlagsOf_AreTheDeclaredOptionsSpellings_AndHelp()
    {
        var flags = CompletionScript.FlagsOf(new CliCommand("ps:scale", "scale", "paas ps:scale TYPE=QTY[:SIZE]... [-a APP] [--json]", Nothing) { Options = Opt.AppScoped(Opt.Json) });

        Assert.Equal(["-a", "--app", "-r", "--remote", "--json", "-h", "--help"], flags);
    }

    [Fact]
    public async Task CompletionBash_FailsForOtherShells_WithOneSentence()
    {
        var zsh = await CliProcess.RunAsync("completion", "zsh");

        Assert.Equal(2, zsh.ExitCode);
        Assert.Equal(" !    Only bash completion is available: paas completion bash\n", zsh.Stderr);
    }

    [Theory]
    [InlineData("paas dom", "domains domains:add domains:remove")]
    [InlineData("paas apps:cr", "create")]
    [InlineData("paas domains:", "add remove")]
    [InlineData("paas run --t", "--timeout")]
    [InlineData("paas domains:add www.example.com -", "-a --app -r --remote --json -h --help")]
    [InlineData("paas help --m", "--markdown")]
    [InlineData("paas git:cred", "")]
    public async Task CompletionBash_InBash_CompletesCommandsAndFlags(string typed, string expected)
    {
        var script = await CliProcess.RunAsync("completion", "bash");
        Assert.Equal(0, script.ExitCode);
        var file = Path.Combine(Path.GetTempPath(), $"paas-completion-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(file, script.Stdout);
        try
        {
            var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("source \"$1\"; COMP_LINE=\"$2\"; COMP_POINT=${#COMP_LINE}; _paas; echo \"${COMPREPLY[*]}\"");
            start.ArgumentList.Add("bash");
            start.ArgumentList.Add(file);
            start.ArgumentList.Add(typed);
            using var bash = Process.Start(start)!;
            var output = await bash.StandardOutput.ReadToEndAsync();
            var errors = await bash.StandardError.ReadToEndAsync();
            await bash.WaitForExitAsync();

            Assert.True(bash.ExitCode == 0, errors);
            Assert.Equal(expected, output.TrimEnd('\n'));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
