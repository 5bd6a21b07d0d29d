namespace Paas.Cli.Tests.Commands;

public sealed class ProcessCommandsTests
{
    [Fact]
    public async Task PsStop_OneInstance_StopsThatInstance_AndSaysAReplacementStarts()
    {
        await using var api = new FakeApi(200, """{"stopped": "web.2", "instance": "c0ffee"}""");

        var stop = await CliProcess.RunAgainstAsync(api.Url, null, "ps:stop", "web.2", "-a", "hello");

        Assert.True(stop.ExitCode == 0, stop.Stderr);
        Assert.Equal(["POST /v1/apps/hello/ps/stop?process=web.2"], api.Requests);
        Assert.Contains("Stopping web.2 on hello... done", stop.Stdout);
        Assert.Contains("the platform starts a replacement for web.2", stop.Stdout);
    }

    [Fact]
    public async Task PsStop_AProcessType_ScalesItToZero()
    {
        await using var api = new FakeApi(200, """{"formation": [{"process": "worker", "quantity": 0, "memory_mb": 512}], "started": 0, "stopped": 1, "problems": []}""");

        var stop = await CliProcess.RunAgainstAsync(api.Url, null, "ps:stop", "worker", "-a", "hello");

        Assert.True(stop.ExitCode == 0, stop.Stderr);
        Assert.Equal(["PATCH /v1/apps/hello/formation"], api.Requests);
        Assert.Contains("worker: 0 x 512M", stop.Stdout);
    }
}
