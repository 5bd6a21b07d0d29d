using Paas.Controller.Instances;

namespace Paas.Controller.Tests.Instances;

public sealed class CrashBackoffTests
{
    private readonly ManualTime _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Delay_FirstCrashRestartsAtOnce_ThenDoubles_UpToTheCap()
    {
        var backoff = new RestartBackoff(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60));

        var delays = Enumerable.Range(1, 9).Select(n => backoff.DelayAfter(n).TotalSeconds).ToArray();

        Assert.Equal([0, 1, 2, 4, 8, 16, 30, 30, 30], delays);
    }

    [Fact]
    public void Tracker_RepeatedCrashes_WaitLonger_AndAStableRunResetsTheCount()
    {
        var tracker = new CrashTracker(RestartBackoff.Default, _time);

        tracker.Record("c1", "app", "web", 1, 1, false, TimeSpan.FromSeconds(2));
        Assert.True(tracker.MayStart("app", "web", 1));
        tracker.Record("c2", "app", "web", 1, 1, false, TimeSpan.FromSeconds(2));
        tracker.Record("c3", "app", "web", 1, 137, true, TimeSpan.FromSeconds(2));
        Assert.False(tracker.MayStart("app", "web", 1));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(tracker.MayStart("app", "web", 1));
        var record = tracker.Get("app", "web", 1)!;
        Assert.Equal(3, record.Restarts);
        Assert.True(record.OomKilled);

        // Up for ten minutes before this crash: back to an immediate restart.
        tracker.Record("c4", "app", "web", 1, 1, false, TimeSpan.FromMinutes(10));
        Assert.True(tracker.MayStart("app", "web", 1));
        Assert.Equal(4, tracker.Get("app", "web", 1)!.Restarts);
        Assert.Equal(1, tracker.Get("app", "web", 1)!.CrashesInARow);
    }

    [Fact]
    public void Tracker_SameContainerReportedTwice_CountsOnce()
    {
        var tracker = new CrashTracker(RestartBackoff.Default, _time);

        Assert.True(tracker.Record("c1", "app", "web", 2, 1, false, TimeSpan.Zero));
        Assert.False(tracker.Record("c1", "app", "web", 2, 1, false, TimeSpan.Zero));

        Assert.Equal(1, tracker.Get("app", "web", 2)!.Restarts);
        Assert.Null(tracker.Get("app", "web", 1));
    }
}
