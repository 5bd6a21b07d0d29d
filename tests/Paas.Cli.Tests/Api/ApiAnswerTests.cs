using Paas.Core.Api;

namespace Paas.Cli.Tests.Api;

/// <summary>Whatever the API answers (or does not), the user gets one sentence and a non-zero exit, never a stack trace.</summary>
public sealed class ApiAnswerTests
{
    private static void OneSentence((int ExitCode, string Stdout, string Stderr) run, string expected)
    {
        Assert.Equal(1, run.ExitCode);
        Assert.Contains(expected, run.Stderr);
        Assert.Single(run.Stderr.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", run.Stderr);
        Assert.DoesNotContain("Exception", run.Stderr);
    }

    [Theory]
    [InlineData("apps:info", """{"name": 5}""")]
    [InlineData("apps:info", """{"name": "hello"}""")]
    [InlineData("apps:info", "[]")]
    [InlineData("ps", """[{"id": "web.1"}]""")]
    [InlineData("releases", """{"releases": []}""")]
    [InlineData("config", """{"A": 1}""")]
    [InlineData("domains", """[{"hostname": null, "app": "hello", "created_at": "2026-01-01T00:00:00Z"}]""")]
    public async Task TypedCommand_AnswerOfAnotherShape_IsOneSentence(string command, string body)
    {
        await using var api = new FakeApi(200, body);

        var run = await CliProcess.RunAgainstAsync(api.Url, null, command, "-a", "hello");

        OneSentence(run, "with a shape this CLI does not understand");
        Assert.Contains("different versions", run.Stderr);
    }

    [Fact]
    public async Task UntypedCommand_AnswerWithoutItsFields_IsOneSentence()
    {
        await using var api = new FakeApi(200, "{}");

        var run = await CliProcess.RunAgainstAsync(api.Url, null, "routes", "-a", "hello");

        OneSentence(run, "a shape this CLI does not understand");
    }

    [Fact]
    public async Task AnswerThatIsNotJson_IsOneSentence()
    {
        await using var api = new FakeApi(200, "<html>a proxy's login page</html>", "text/html");

        var run = await CliProcess.RunAgainstAsync(api.Url, null, "apps:info", "-a", "hello");

        OneSentence(run, "(not JSON)");
    }

    [Fact]
    public async Task ConnectionRefused_IsOneSentence()
    {
        var run = await CliProcess.RunAsync("ps", "-a", "hello");

        OneSentence(run, "Cannot reach the Paas API at http://127.0.0.1:9");
    }

    [Fact]
    public async Task ApiThatNeverAnswers_TimesOutWithOneSentence()
    {
        await using var api = new FakeApi(200, body: null);
        var client = new ApiClient(new CliConfig(api.Url, "test-token", "test"), TimeSpan.FromMilliseconds(300));

        var error = await Assert.ThrowsAsync<CliException>(() => client.GetAsync<AppResponse>("v1/apps/hello"));

        Assert.Equal($"The Paas API at {api.Url} did not answer within 0.3 s; try again, or check the platform with `paas cells`.", error.Message);
    }

    [Fact]
    public async Task TypedAnswer_IsReadIntoTheApisRecord()
    {
        await using var api = new FakeApi(200, """
            {"name": "hello", "git_url": "http://h/hello.git", "web_url": "http://hello.h", "created_at": "2026-01-01T00:00:00Z", "owner": "admin", "release": null}
            """);

        var run = await CliProcess.RunAgainstAsync(api.Url, null, "apps:info", "-a", "hello");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Git URL:  http://h/hello.git", run.Stdout);
        Assert.Contains("Release:  none yet", run.Stdout);
    }
}
