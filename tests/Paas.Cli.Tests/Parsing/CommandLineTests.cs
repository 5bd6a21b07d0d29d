using System.Diagnostics;
using System.Text.RegularExpressions;
using Paas.Cli.Commands;
using Paas.Cli.Parsing;

namespace Paas.Cli.Tests.Parsing;

/// <summary>The System.CommandLine tree built from the command table: declared options only, Heroku's short flags, help for each.</summary>
public sealed partial class CommandLineTests
{
    private static readonly Func<ParsedArgs, CliContext, Task<int>> Nothing = (_, _) => Task.FromResult(0);

    private static readonly CliCommand Logs = new("logs", "show logs", "paas logs [-a APP] [-n NUM] [-t] [-d DYNO] [-s SOURCE]", Nothing)
    {
        Options = Opt.AppScoped(Opt.Num, new CliOption("tail", null, "follow") { Short = "-t" },
            new CliOption("source", "SOURCE", "which") { Short = "-s" }, new CliOption("ps", "DYNO", "one dyno") { Short = "-d", Aliases = ["--dyno"] }),
    };

    private static readonly CliCommand Run = new("run", "run", "paas run [-a APP] -- COMMAND", Nothing)
    {
        Arguments = [new("COMMAND", "what to run", Many: true)],
        Options = Opt.AppScoped(),
    };

    private static readonly CommandLine Parser = new([Logs, Run]);

    [Fact]
    public void HerokuShortFlags_AreReadUnderTheirLongNames()
    {
        var request = Parser.Parse(["logs", "-a", "hello", "-t", "-d", "web.1", "-s", "app", "-n", "5", "-r", "heroku"]);

        Assert.False(request.WantsHelp);
        Assert.Equal(new Dictionary<string, string> { ["app"] = "hello", ["tail"] = "true", ["ps"] = "web.1", ["source"] = "app", ["num"] = "5", ["remote"] = "heroku" },
            request.Args.Options);
    }

    [Fact]
    public void LongFormsAndAliases_WithSpaceOrEquals()
    {
        var request = Parser.Parse(["logs", "--app=hello", "--dyno", "worker"]);

        Assert.Equal("hello", request.Args.Get("app"));
        Assert.Equal("worker", request.Args.Get("ps"));
    }

    [Fact]
    public void EverythingAfterDoubleDash_IsKeptWhole_DashesIncluded()
    {
        var request = Parser.Parse(["run", "-a", "hello", "--", "ls", "-la", "--", "x"]);

        Assert.Equal(["ls", "-la", "--", "x"], request.Args.Rest);
        Assert.Equal("hello", request.Args.Get("app"));
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("-x")]
    [InlineData("--bogus=1")]
    public void UnknownOption_IsAUsageError_NamingIt(string option)
    {
        var error = Assert.Throws<CliException>(() => Parser.Parse(["run", "-a", "hello", option, "ls"]));

        Assert.Equal(2, error.ExitCode);
        Assert.Equal($"Unknown option {option} for `paas run`; see `paas run --help`.", error.Message);
    }

    [Fact]
    public void ExtraPositional_ForACommandTakingNone_IsAUsageError()
    {
        var error = Assert.Throws<CliException>(() => Parser.Parse(["logs", "hello"]));

        Assert.Equal(2, error.ExitCode);
        Assert.Contains("Unexpected argument 'hello'", error.Message);
    }

    [Fact]
    public void HelpFlag_WinsOverEverythingElse()
    {
        Assert.True(Parser.Parse(["logs", "--bogus", "-h"]).WantsHelp);
        Assert.True(Parser.Parse(["logs", "--help"]).WantsHelp);
    }

    [Fact]
    public void Help_ListsEveryDeclaredOption_WithItsHelp()
    {
        var help = CommandLine.Help(Logs);

        Assert.StartsWith("Usage: paas logs ", help);
        Assert.Contains("-d, --ps, --dyno DYNO", help);
        Assert.Contains("-t, --tail", help);
        Assert.Contains("-r, --remote REMOTE", help);
        Assert.Contains("-h, --help", help);
    }

    [GeneratedRegex(@"(?<![\w-])(--[a-z][a-z-]*|-[a-z])\b")]
    private static partial Regex OptionInUsage();

    /// <summary>The table stays honest: what a usage line shows is declared (so it parses), and every option has help.</summary>
    [Fact]
    public async Task EveryCommand_DeclaresTheOptionsItsUsageShows_EachWithHelp()
    {
        var markdown = (await CliProcess.RunAsync("help", "--markdown")).Stdout;
        var rows = markdown.Split('\n').Where(l => l.StartsWith("| `paas ", StringComparison.Ordinal)).ToList();
        Assert.True(rows.Count > 40, markdown);
        foreach (var row in rows)
        {
            var cells = row.Split(" | ");
            var usage = cells[0];
            var options = cells.Length > 2 ? cells[2] : "";
            foreach (var flag in OptionInUsage().Matches(usage).Select(m => m.Value).Where(f => f is not ("-a" or "-r" or "--app" or "--remote" or "--help" or "-h")))
                Assert.True(Regex.IsMatch(options, $@"(?<![\w-]){Regex.Escape(flag)}\b"), $"{usage}: {flag} is in the usage but not declared ({options})");
        }
    }

    [Fact]
    public async Task Cli_UnknownOption_Exits2NamingIt_AndCallsNothing()
    {
        var run = await CliProcess.RunAsync("ps", "-a", "hello", "--bogus", "yes");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal(" !    Unknown option --bogus for `paas ps`; see `paas ps --help`.\n", run.Stderr);
    }

    [Fact]
    public async Task Cli_Version()
    {
        var run = await CliProcess.RunAsync("--version");

        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"^paas \d+\.\d+\.\d+", run.Stdout);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9/hello.git", "http://127.0.0.1:9", "hello")]
    [InlineData("https://localhost:8443/hello.git", "http://localhost:8090", "hello")]
    [InlineData("http://localhost:8090/hello.git", "http://127.0.0.1:8090", "hello")]
    [InlineData("https://paas.example.com/my-app.git/", "https://PAAS.example.com", "my-app")]
    [InlineData("https://github.com/me/hello.git", "http://localhost:8090", null)]
    [InlineData("git@paas.example.com:hello.git", "https://paas.example.com", null)]
    [InlineData("https://paas.example.com/team/hello.git", "https://paas.example.com", null)]
    public void AppOf_IsTheAppOfARemoteOnThisPlatform(string remote, string api, string? expected) =>
        Assert.Equal(expected, CliContext.AppOf(remote, api));

    [Fact]
    public async Task AppIsFound_FromAnyRemoteOnThePlatform_AndRPicksOne()
    {
        var repo = Directory.CreateTempSubdirectory("paas-cli-remotes-").FullName;
        try
        {
            Git(repo, "init", "-q");
            Git(repo, "remote", "add", "origin", "https://github.com/me/site.git");
            Git(repo, "remote", "add", "heroku", "http://127.0.0.1:9/site.git");

            // One remote on the platform (called heroku): the command goes on to call the API for that app.
            var one = await CliProcess.RunInAsync(repo, "ps");
            Assert.Contains("Cannot reach the Paas API", one.Stderr);

            Git(repo, "remote", "add", "staging", "http://127.0.0.1:9/site-staging.git");
            var two = await CliProcess.RunInAsync(repo, "ps");
            Assert.Equal(2, two.ExitCode);
            Assert.Contains("heroku: site, staging: site-staging", two.Stderr);

            var picked = await CliProcess.RunInAsync(repo, "ps", "-r", "staging");
            Assert.Contains("Cannot reach the Paas API", picked.Stderr);
            var elsewhere = await CliProcess.RunInAsync(repo, "ps", "-r", "origin");
            Assert.Equal(2, elsewhere.ExitCode);
            Assert.Contains("does not point at this platform", elsewhere.Stderr);
        }
        finally
        {
            Directory.Delete(repo, recursive: true);
        }
    }

    private static void Git(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = directory, UseShellExecute = false };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var git = Process.Start(start)!;
        git.WaitForExit();
        Assert.Equal(0, git.ExitCode);
    }
}
