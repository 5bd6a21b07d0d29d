using Paas.Controller.Instances;
using Paas.Controller.State;

namespace Paas.Controller.Tests.Instances;

/// <summary>
/// A new release that passed its first health check and then crashes in a loop is rolled back, not
/// restarted forever: the crash tracker (with the real backoff, on a test clock) feeds the policy.
/// </summary>
public sealed class CrashLoopRollbackTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly ManualTime _time = new(Start);

    private static ReleaseRecord Release(int version, DateTimeOffset created, string description = "Deploy abc1234") =>
        new("app", version, $"paas/app:v{version}", "abc1234", "python", new Dictionary<string, string> { ["web"] = "python3 app.py" }, created) { Description = description };

    /// <summary>Crashes web.1 of <paramref name="release"/> every few seconds, as the converger reports them, until the policy answers.</summary>
    private int? CrashLoop(CrashTracker tracker, ReleaseRecord current, ReleaseRecord? previous, int release, int crashes)
    {
        var policy = CrashLoopRollback.Default;
        for (var n = 1; n <= crashes; n++)
        {
            _time.Advance(TimeSpan.FromSeconds(3)); // up 3 s (it passed its first check), then exits
            tracker.Record($"app-web-1-{release}-{n}", "app", "web", 1, 1, false, TimeSpan.FromSeconds(3), release);
            if (policy.Decide(current, previous, tracker.Get("app", "web", 1)!, release, _time.GetUtcNow()) is { } target)
                return target;
        }
        return null;
    }

    [Fact]
    public void NewRelease_CrashingThreeTimesInARowAfterItsDeploy_RollsBackToThePreviousRelease()
    {
        var tracker = new CrashTracker(RestartBackoff.Default, _time);

        var target = CrashLoop(tracker, Release(3, Start), Release(2, Start - TimeSpan.FromDays(1)), release: 3, crashes: 10);

        Assert.Equal(2, target);
        Assert.Equal(3, tracker.Get("app", "web", 1)!.CrashesInARow);
    }

    [Fact]
    public void OldCrashesOfThePreviousRelease_DoNotCountAgainstTheNewOne()
    {
        var tracker = new CrashTracker(RestartBackoff.Default, _time);
        CrashLoop(tracker, Release(2, Start), Release(1, Start), release: 2, crashes: 2);

        // v3 deployed: its first crash is its first, not the slot's third.
        var target = CrashLoop(tracker, Release(3, _time.GetUtcNow()), Release(2, Start), release: 3, crashes: 2);

        Assert.Null(target);
        Assert.Equal(2, tracker.Get("app", "web", 1)!.CrashesInARow);
        Assert.Equal(4, tracker.Get("app", "web", 1)!.Restarts);
    }

    [Theory]
    [InlineData("an automatic rollback itself", 0)]
    [InlineData("long past its deploy", 60)]
    [InlineData("the first release", -1)]
    public void Loops_ThatAreNotANewReleaseGoneBad_KeepRestartingWithBackoff(string why, int minutesSinceDeploy)
    {
        var tracker = new CrashTracker(RestartBackoff.Default, _time);
        var current = why == "an automatic rollback itself"
            ? Release(4, Start, CrashLoopRollback.Describe(3, 2, "web.1", "exited with code 1", 3))
            : Release(3, Start - TimeSpan.FromMinutes(Math.Max(0, minutesSinceDeploy)));
        var previous = minutesSinceDeploy < 0 ? null : Release(2, Start - TimeSpan.FromDays(1));

        var target = CrashLoop(tracker, current, previous, release: current.Version, crashes: 10);

        Assert.Null(target);
        Assert.Equal(10, tracker.Get("app", "web", 1)!.Restarts);
    }
}
