using Paas.Core.Logs;

namespace Paas.Core.Tests.Logs;

public sealed class LogRateLimiterTests
{
    private readonly TestClock _clock = new(new DateTimeOffset(2026, 11, 27, 23, 0, 0, TimeSpan.Zero));

    private static int Admitted(LogRateLimiter limiter, string app, int lines)
    {
        var admitted = 0;
        for (var i = 0; i < lines; i++)
            admitted += limiter.TryAdmit(app, out _) ? 1 : 0;
        return admitted;
    }

    [Fact]
    public void TryAdmit_BeyondTheBurst_DropsLines()
    {
        var limiter = new LogRateLimiter(linesPerSecond: 10, burst: 20, _clock);

        Assert.Equal(20, Admitted(limiter, "chatty", 50));
    }

    [Fact]
    public void TryAdmit_AfterTimePasses_AdmitsAtTheRate_AndReportsTheDropOnce()
    {
        var limiter = new LogRateLimiter(linesPerSecond: 10, burst: 20, _clock);
        Admitted(limiter, "chatty", 50);

        _clock.Advance(TimeSpan.FromSeconds(1));
        var first = limiter.TryAdmit("chatty", out var dropped);
        var second = limiter.TryAdmit("chatty", out var droppedAgain);

        Assert.True(first);
        Assert.Equal(30, dropped);
        Assert.True(second);
        Assert.Equal(0, droppedAgain);
        Assert.Equal(8, Admitted(limiter, "chatty", 100));
    }

    [Fact]
    public void TryAdmit_AChattyApp_DoesNotUseAnotherAppsAllowance()
    {
        var limiter = new LogRateLimiter(linesPerSecond: 10, burst: 20, _clock);
        Admitted(limiter, "chatty", 1000);

        Assert.Equal(20, Admitted(limiter, "quiet", 20));
    }

    [Fact]
    public void TakePendingDrops_ForAnAppThatFellSilent_ReportsItsDropsOnceItMayWriteAgain()
    {
        var limiter = new LogRateLimiter(linesPerSecond: 10, burst: 20, _clock);
        Admitted(limiter, "chatty", 25);

        var tooSoon = limiter.TakePendingDrops();
        _clock.Advance(TimeSpan.FromMilliseconds(200));
        var pending = limiter.TakePendingDrops();
        var afterwards = limiter.TakePendingDrops();

        Assert.Empty(tooSoon);
        Assert.Equal([("chatty", 5L)], pending);
        Assert.Empty(afterwards);
    }

    [Fact]
    public void Marker_SaysHowManyLinesWereDropped() =>
        Assert.Equal("Log rate limit exceeded: 1234 lines dropped", LogRateLimiter.Marker(1234));
}
