namespace Paas.Cli.Tests.Commands;

/// <summary>Bad `routes:set` input is refused in one sentence with exit 2, before any call (nothing listens behind <see cref="CliProcess"/>).</summary>
public sealed class RoutingCommandsTests
{
    [Theory]
    [InlineData("--timeout", "0", "between 1 and 3600 seconds")]
    [InlineData("--timeout", "3601", "between 1 and 3600 seconds")]
    [InlineData("--timeout", "soon", "takes a number of seconds")]
    [InlineData("--sticky-cookie", "my cookie", "is not a cookie name")]
    [InlineData("--sticky-cookie", "a;b", "is not a cookie name")]
    [InlineData("--balancing", "random", "round-robin or least-requests")]
    public async Task RoutesSet_BadValue_IsOneSentenceAndExit2(string option, string value, string expected)
    {
        var run = await CliProcess.RunAsync("routes:set", "-a", "hello", option, value);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.Stderr);
        Assert.Single(run.Stderr.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Fact]
    public async Task RoutesSet_NothingToSet_IsAUsageError()
    {
        var run = await CliProcess.RunAsync("routes:set", "-a", "hello");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Say what to set", run.Stderr);
    }

    [Fact]
    public async Task RoutesSet_CookieAndNoCookie_IsAUsageError()
    {
        var run = await CliProcess.RunAsync("routes:set", "-a", "hello", "--sticky-cookie", "SID", "--no-sticky-cookie");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("not both", run.Stderr);
    }
}
