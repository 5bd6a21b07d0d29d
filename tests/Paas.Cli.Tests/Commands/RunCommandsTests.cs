using System.Text.Json;
using Paas.Cli.Commands;

namespace Paas.Cli.Tests.Commands;

public sealed class RunCommandsTests
{
    [Fact]
    public void ShellCommand_OneWord_IsTheCommandAsTyped() =>
        Assert.Equal("python3 migrate.py && echo $DONE", RunCommands.ShellCommand(["python3 migrate.py && echo $DONE"]));

    [Fact]
    public void ShellCommand_SeveralWords_AreQuotedSoTheShellSeesExactlyThem() =>
        Assert.Equal("echo 'a b' '$HOME' 'it'\\''s' '' --flag=x/y:z", RunCommands.ShellCommand(["echo", "a b", "$HOME", "it's", "", "--flag=x/y:z"]));

    [Theory]
    [InlineData("""{"exit_code": 0, "timed_out": false, "out_of_memory": false}""", 0)]
    [InlineData("""{"exit_code": 3, "timed_out": false, "out_of_memory": false}""", 3)]
    [InlineData("""{"exit_code": -1, "timed_out": false, "out_of_memory": false}""", 1)]
    [InlineData("""{"exit_code": -1, "timed_out": true, "out_of_memory": false, "time_limit_seconds": 5}""", RunCommands.TimedOutExitCode)]
    [InlineData("""{"exit_code": 137, "timed_out": false, "out_of_memory": true, "memory_mb": 512}""", RunCommands.OutOfMemoryExitCode)]
    public void ExitCodeOf_IsTheCommands_OrSaysWhyThePlatformStoppedIt(string end, int expected)
    {
        using var doc = JsonDocument.Parse(end);

        Assert.Equal(expected, RunCommands.ExitCodeOf(doc.RootElement, "cmd"));
    }

    [Fact]
    public async Task Run_WithoutACommand_IsAUsageError()
    {
        var run = await CliProcess.RunAsync("run", "-a", "hello");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Say what to run", run.Stderr);
    }

    [Fact]
    public async Task RunDetached_StartsTheRun_AndSaysItsNameAndHowToSeeItsLogs()
    {
        await using var api = new FakeApi(202, """{"name": "run.3", "command": "python3 migrate.py", "release": 4}""");

        var run = await CliProcess.RunAgainstAsync(api.Url, null, "run:detached", "-a", "hello", "--", "python3", "migrate.py");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(["POST /v1/apps/hello/runs/detached"], api.Requests);
        Assert.Contains("up, run.3", run.Stdout);
        Assert.Contains("paas logs -a hello -d run.3", run.Stdout);
    }
}
