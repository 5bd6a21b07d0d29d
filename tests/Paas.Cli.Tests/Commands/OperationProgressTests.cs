using System.Text.Json;

namespace Paas.Cli.Tests.Commands;

/// <summary>
/// Long commands against a controller that streams their progress (NDJSON): instance lines on stderr as they come,
/// the summary on stdout, --json only the last record, a failure's reason and a non-zero exit, --no-wait.
/// </summary>
public sealed class OperationProgressTests
{
    private const string Ndjson = "application/x-ndjson";

    private static string Lines(params string[] lines) => string.Join("\n", lines) + "\n";

    private static readonly string ScaleToThree = Lines(
        """{"event":"accepted","release":5,"message":"Scaling web to 3"}""",
        """{"event":"starting","instance":"web.2","release":5,"cell":"cell-1"}""",
        """{"event":"starting","instance":"web.3","release":5,"cell":"cell-2"}""",
        """{"event":"healthy","instance":"web.3","release":5,"cell":"cell-2","seconds":1.43}""",
        """{"event":"routed","instance":"web.3","release":5,"cell":"cell-2","seconds":1.5}""",
        """{"event":"healthy","instance":"web.2","release":5,"cell":"cell-1","seconds":2.01}""",
        """{"event":"routed","instance":"web.2","release":5,"cell":"cell-1","seconds":2.1}""",
        """{"event":"done","release":5,"message":"Scaled web to 3: 3 of 3 healthy in 3.2 s","outcome":{"ok":true,"summary":"Scaled web to 3: 3 of 3 healthy in 3.2 s","release":5,"healthy":3,"wanted":3,"seconds":3.2}}""");

    [Fact]
    public async Task Scale_PrintsEachInstanceAsItBecomesHealthy_OnStderr_ThenTheSummaryOnStdout()
    {
        await using var api = new FakeApi(200, ScaleToThree, Ndjson);

        var scale = await CliProcess.RunAgainstAsync(api.Url, null, "ps:scale", "web=3", "-a", "hello");

        Assert.True(scale.ExitCode == 0, scale.Stderr);
        Assert.Equal(["PATCH /v1/apps/hello/formation"], api.Requests);
        var lines = scale.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            ["Scaling web=3 on hello...", "  web.2 starting on cell-1 (v5)", "  web.3 starting on cell-2 (v5)", "  web.3 healthy (1.4 s)", "  web.3 routed",
             "  web.2 healthy (2.0 s)", "  web.2 routed"],
            lines);
        Assert.Equal("Scaled web to 3: 3 of 3 healthy in 3.2 s\n", scale.Stdout);
    }

    [Fact]
    public async Task Scale_Json_PrintsOnlyTheFinalRecord()
    {
        await using var api = new FakeApi(200, ScaleToThree, Ndjson);

        var scale = await CliProcess.RunAgainstAsync(api.Url, null, "ps:scale", "web=3", "-a", "hello", "--json");

        Assert.True(scale.ExitCode == 0, scale.Stderr);
        Assert.Equal("", scale.Stderr);
        var last = JsonDocument.Parse(scale.Stdout).RootElement;
        Assert.Equal("done", last.GetProperty("event").GetString());
        Assert.Equal(3, last.GetProperty("outcome").GetProperty("healthy").GetInt32());
        Assert.True(last.GetProperty("outcome").GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task ConfigSet_WhoseReleaseNeverBecomesHealthy_PrintsTheReason_AndExitsNonZero()
    {
        const string reason = "v6 (Set BROKEN config var) did not come up, so nothing changed: web.1 of v6 never became healthy: the process exited with code 3.";
        await using var api = new FakeApi(200, Lines(
            """{"event":"accepted","release":6,"message":"Rolling out v6 (Set BROKEN config var)"}""",
            """{"event":"starting","instance":"web.1","release":6,"cell":"cell-1"}""",
            """{"event":"unhealthy","instance":"web.1","release":6,"cell":"cell-1","seconds":0.8,"message":"the process exited with code 3"}""",
            """{"event":"stopped","instance":"web.1","release":6,"cell":"cell-1"}""",
            $$$"""{"event":"failed","message":"{{{reason}}}","outcome":{"ok":false,"summary":"{{{reason}}}","release":null,"healthy":0,"wanted":0,"seconds":1.1,"error":"release_failed"}}"""), Ndjson);

        var set = await CliProcess.RunAgainstAsync(api.Url, null, "config:set", "BROKEN=1", "-a", "hello");

        Assert.Equal(1, set.ExitCode);
        Assert.Contains("  web.1 never became healthy: the process exited with code 3", set.Stderr);
        Assert.Contains(" !    " + reason, set.Stderr);
        Assert.Equal("", set.Stdout);
    }

    [Fact]
    public async Task Rollback_NamesTheInstancesOfTheOldReleaseAsTheyStop()
    {
        await using var api = new FakeApi(200, Lines(
            """{"event":"accepted","release":7,"message":"Rolling out v7 (Rollback to v4)"}""",
            """{"event":"starting","instance":"web.1","release":7,"cell":"cell-1"}""",
            """{"event":"healthy","instance":"web.1","release":7,"cell":"cell-1","seconds":1.0}""",
            """{"event":"stopped","instance":"web.1","release":6,"cell":"cell-2"}""",
            """{"event":"done","release":7,"message":"Released v7 (Rollback to v4): 1 of 1 healthy in 2.0 s","outcome":{"ok":true,"summary":"Released v7 (Rollback to v4): 1 of 1 healthy in 2.0 s","release":7,"healthy":1,"wanted":1,"seconds":2.04}}"""), Ndjson);

        var rollback = await CliProcess.RunAgainstAsync(api.Url, null, "releases:rollback", "v4", "-a", "hello");

        Assert.True(rollback.ExitCode == 0, rollback.Stderr);
        Assert.Contains("  web.1 stopped (old release v6)", rollback.Stderr);
        Assert.Equal("done, v7: 1 of 1 healthy in 2.0 s\n", rollback.Stdout);
    }

    [Fact]
    public async Task NoWait_ReturnsOnceAccepted_WithoutWaitingForInstances()
    {
        await using var api = new FakeApi(200, ScaleToThree, Ndjson);

        var restart = await CliProcess.RunAgainstAsync(api.Url, null, "ps:restart", "web", "-a", "hello", "--no-wait");

        Assert.True(restart.ExitCode == 0, restart.Stderr);
        Assert.DoesNotContain("healthy", restart.Stderr);
        Assert.StartsWith("accepted, v5: not waiting", restart.Stdout);
    }

    [Fact]
    public async Task CtrlC_StopsTheWaiting_WithASentence_NotTheCommandsCrash()
    {
        await using var api = new FakeApi(200, null);
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "paas.dll"), "ps:scale", "web=3", "-a", "hello" })
            start.ArgumentList.Add(arg);
        start.Environment["PAAS_API_URL"] = api.Url;
        start.Environment["PAAS_TOKEN"] = "test-token";
        using var paas = System.Diagnostics.Process.Start(start)!;
        var stderr = paas.StandardError.ReadToEndAsync();
        // Once its request is in, the CLI is waiting: Ctrl-C (SIGINT) now.
        for (var i = 0; i < 400 && api.Held == 0; i++)
            await Task.Delay(25);
        Assert.Equal(1, api.Held);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", paas.Id.ToString()]))
            await kill.WaitForExitAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await paas.WaitForExitAsync(timeout.Token);

        Assert.Equal(130, paas.ExitCode);
        Assert.Contains("Stopped waiting; the change goes on on the platform: see `paas ps -a hello`.", await stderr);
    }

    [Fact]
    public async Task AStreamThatEndsBeforeItsOutcome_IsOneSentence_AndNonZero()
    {
        await using var api = new FakeApi(200, Lines("""{"event":"accepted","release":5}""", """{"event":"starting","instance":"web.2","release":5,"cell":"cell-1"}"""), Ndjson);

        var scale = await CliProcess.RunAgainstAsync(api.Url, null, "ps:scale", "web=2", "-a", "hello");

        Assert.Equal(1, scale.ExitCode);
        Assert.Contains("ended the progress of PATCH /v1/apps/hello/formation before the operation ended", scale.Stderr);
    }
}
