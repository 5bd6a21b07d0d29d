using Paas.Core.Health;

namespace Paas.Core.Tests.Health;

public sealed class DependencyHealthTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(100);

    private static DependencyCheck Answers(string name) => new(name, _ => Task.CompletedTask);

    private static DependencyCheck Fails(string name, string message) => new(name, _ => Task.FromException(new InvalidOperationException(message)));

    private static DependencyCheck Hangs(string name) => new(name, _ => new TaskCompletionSource().Task);

    private static Task<HealthReport> CheckAsync(params DependencyCheck[] checks) =>
        new DependencyHealth(checks, Short, TimeProvider.System).CheckAsync(CancellationToken.None);

    [Fact]
    public async Task CheckAsync_EveryDependencyAnswers_IsOk()
    {
        var report = await CheckAsync(Answers("redis"), Answers("docker"));

        Assert.True(report.Healthy);
        Assert.Equal(200, report.StatusCode);
        Assert.Equal("ok", report.Line);
    }

    [Fact]
    public async Task CheckAsync_OneDependencyFails_Is503_NamingItAndWhy_OnOneLine()
    {
        var report = await CheckAsync(Answers("redis"), Fails("docker", "Cannot connect\nto the engine"));

        Assert.False(report.Healthy);
        Assert.Equal(503, report.StatusCode);
        Assert.Equal("unhealthy: docker: Cannot connect to the engine", report.Line);
    }

    [Fact]
    public async Task CheckAsync_AHangingProbeThatIgnoresItsToken_IsAFailureAfterTheTimeout()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var report = await CheckAsync(Hangs("redis"), Answers("database"));

        Assert.Equal("unhealthy: redis: no answer within 0.1 s", report.Line);
        Assert.InRange(clock.Elapsed, Short, TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task CheckAsync_ProbeCancelledByTheDeadline_IsReportedAsNoAnswer()
    {
        var report = await CheckAsync(new DependencyCheck("database", ct => Task.Delay(Timeout.Infinite, ct)));

        Assert.Equal("unhealthy: database: no answer within 0.1 s", report.Line);
    }

    [Fact]
    public async Task CheckAsync_SeveralFail_NamesEachInOrder()
    {
        var report = await CheckAsync(Fails("redis", "down"), Answers("docker"), Hangs("database"));

        Assert.Equal("unhealthy: redis: down; database: no answer within 0.1 s", report.Line);
    }
}
