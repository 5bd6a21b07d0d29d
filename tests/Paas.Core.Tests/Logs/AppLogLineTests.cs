using Paas.Core.Logs;

namespace Paas.Core.Tests.Logs;

public sealed class AppLogLineTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 27, 23, 0, 0, 123, TimeSpan.Zero);

    [Fact]
    public void ToHerokuFormat_AppLine_IsTaggedWithItsProcess() =>
        Assert.Equal("2026-11-27T23:00:00.123000+00:00 app[web.1]: hello",
            new AppLogLine(At, LogSource.App, "web.1", "hello").ToHerokuFormat());

    [Fact]
    public void ToHerokuFormat_LineWithoutProcess_IsTaggedWithItsSource() =>
        Assert.Equal("2026-11-27T23:00:00.123000+00:00 router: at=info method=GET",
            new AppLogLine(At.ToOffset(TimeSpan.FromHours(2)), LogSource.Router, "", "at=info method=GET").ToHerokuFormat());

    [Fact]
    public void Filter_BySourceAndProcess_MatchesOnlyThoseLines()
    {
        var filter = new AppLogFilter(LogSource.App, "web.2");

        Assert.True(filter.Matches(new AppLogLine(At, LogSource.App, "web.2", "x")));
        Assert.False(filter.Matches(new AppLogLine(At, LogSource.App, "web.1", "x")));
        Assert.False(filter.Matches(new AppLogLine(At, LogSource.Router, "", "x")));
    }

    [Fact]
    public void Filter_ByProcessType_MatchesEveryInstanceOfThatTypeOnly()
    {
        var filter = new AppLogFilter(null, "web");

        Assert.True(filter.Matches(new AppLogLine(At, LogSource.App, "web.1", "x")));
        Assert.True(filter.Matches(new AppLogLine(At, LogSource.App, "web.12", "x")));
        Assert.False(filter.Matches(new AppLogLine(At, LogSource.App, "worker.1", "x")));
        Assert.False(filter.Matches(new AppLogLine(At, LogSource.App, "webhook.1", "x")));
        Assert.False(filter.Matches(new AppLogLine(At, LogSource.Router, "", "x")));
    }
}
