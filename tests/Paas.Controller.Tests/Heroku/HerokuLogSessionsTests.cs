using Paas.Controller.Heroku;

namespace Paas.Controller.Tests.Heroku;

public sealed class HerokuLogSessionsTests
{
    private static readonly HerokuLogQuery Query = new(100, null, null, false);

    [Fact]
    public void ASession_IsTakenOnce()
    {
        var sessions = new HerokuLogSessions(new ManualTime(DateTimeOffset.UnixEpoch));
        var id = sessions.Create("hello", Query);

        Assert.Equal(("hello", Query), sessions.Take(id));
        Assert.Null(sessions.Take(id));
    }

    [Fact]
    public void ASession_ExpiresAfterItsLifetime_AndIdsAreUnguessablyLong()
    {
        var time = new ManualTime(DateTimeOffset.UnixEpoch);
        var sessions = new HerokuLogSessions(time);
        var id = sessions.Create("hello", Query);

        time.Advance(HerokuLogSessions.Lifetime);

        Assert.Null(sessions.Take(id));
        Assert.True(id.Length >= 48);
        Assert.Null(sessions.Take("not-a-session"));
    }
}
