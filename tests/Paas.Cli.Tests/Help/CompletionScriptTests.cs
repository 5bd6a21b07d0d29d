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
    public async Task Completion_ForAnUnknownShell_FailsWithOneSentence()
    {
        var tcsh = await CliProcess.RunAsync("completion", "tcsh");

        Assert.Equal(2, tcsh.ExitCode);
        Assert.Equal(" !    No completion for 'tcsh': paas completion bash|zsh|fish\n", tcsh.Stderr);
    }

    [Theory]
    [InlineData("paas dom", "domains domains:add domains:remove")]
    [InlineData("paas logs --d", "--dyno")]
    [InlineData("paas logs -", "-a -d -h -n -r -s -t --app --dyno --help --json --num --ps --remote --source --tail")]
    [InlineData("paas domains:add x --", "--app --help --json --remote")]
    [InlineData("paas help --m", "--markdown")]
    [InlineData("paas git:cred", "")]
    public async Task CompletionFish_InFish_CompletesCommandsAndDeclaredOptions(string typed, string expected)
    {
        var output = await InShellAsync("fish", "fish", "source $argv[1]; complete -C $argv[2] | string replace -r '\\t.*' ''; true", typed);

        Assert.Equal(expected, string.Join(' ', output.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    /// <summary>
    /// zsh's completion system needs a terminal, so its two entry points are stood in for: `_describe` prints the
    /// commands offered, `_arguments` the option specs; what the script hands them is what zsh would offer.
    /// </summary>
    [Theory]
    [InlineData("paas dom", "domains\\:add:serve the app on a custom hostname")]
    [InlineData("paas logs -", "'(-d --ps --dyno)'")]
    [InlineData("paas logs -", "--dyno=[only lines of one process type or instance (web, web.1)]:DYNO:")]
    [InlineData("paas domains:add x -", "-a[the app (default  the app of this directory's git remote that points at this platform)]:APP:_paas_apps")]
    [InlineData("paas help -", "--markdown[the command reference as Markdown]")]
    public async Task CompletionZsh_HandsZshTheCommandsAndDeclaredOptions(string typed, string expected)
    {
        const string harness = """
            _describe() { local array=${@[-1]}; print -rl -- ${(P)array} }
            _arguments() { print -rl -- "${(qq)@}" }
            compdef() { }
            source $1
            words=(${=2}); [[ $2 == *' ' ]] && words+=('')
            CURRENT=${#words}
            _paas
            """;
        var output = await InShellAsync("zsh", "zsh", harness, typed);

        Assert.Contains(expected.Replace("'(", "(").Replace(")'", ")"), output.Replace("'\\''", "'").Replace("'(", "(").Replace(")'", ")"));
    }

    private static async Task<string> InShellAsync(string shell, string extension, string program, string typed)
    {
        var script = await CliProcess.RunAsync("completion", shell);
        Assert.Equal(0, script.ExitCode);
        var file = Path.Combine(Path.GetTempPath(), $"paas-completion-{Guid.NewGuid():N}.{extension}");
        await File.WriteAllTextAsync(file, script.Stdout);
        try
        {
            // With CI=true a missing shell is a failure (setup.sh installs zsh and fish), never a skip.
            var start = new ProcessStartInfo(shell) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(shell == "zsh" ? "-fc" : "-c");
            start.ArgumentList.Add(program);
            if (shell == "zsh")
                start.ArgumentList.Add("zsh");
            start.ArgumentList.Add(file);
            start.ArgumentList.Add(typed);
            start.Environment["PATH"] = Environment.GetEnvironmentVariable("PATH");
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            var errors = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, errors);
            return output;
        }
        finally
        {
            File.Delete(file);
        }
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
