using System.Security.Cryptography;
using Paas.Controller.Runs;

namespace Paas.Controller.Tests.Runs;

/// <summary>The one-time secrets of `heroku run`'s attach URLs: whoever presents one first, within its minute, gets the run; nobody else ever.</summary>
public sealed class RendezvousSecretsTests
{
    private sealed record Run(string Name);

    private readonly ManualTime _time = new(new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero));
    private readonly RendezvousSecrets<Run> _secrets;

    public RendezvousSecretsTests() => _secrets = new RendezvousSecrets<Run>(_time, RandomNumberGenerator.Create());

    [Fact]
    public void Redeem_TheIssuedSecret_GivesItsRunOnce()
    {
        var run = new Run("run.1");
        var secret = _secrets.Issue(run);

        Assert.Same(run, _secrets.Redeem(secret));
        Assert.Null(_secrets.Redeem(secret));
    }

    [Fact]
    public void Redeem_AWrongSecret_IsRefused_AndTheRightOneStillWorks()
    {
        var secret = _secrets.Issue(new Run("run.1"));

        Assert.Null(_secrets.Redeem(secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A')));
        Assert.Null(_secrets.Redeem(""));
        Assert.Null(_secrets.Redeem(secret.ToUpperInvariant() == secret ? secret.ToLowerInvariant() : secret.ToUpperInvariant()));
        Assert.Equal("run.1", _secrets.Redeem(secret)?.Name);
    }

    [Fact]
    public void Redeem_AfterItsLifetime_IsRefused()
    {
        var late = _secrets.Issue(new Run("run.1"));
        var inTime = _secrets.Issue(new Run("run.2"));

        _time.Advance(RendezvousSecrets<Run>.Lifetime - TimeSpan.FromSeconds(1));
        Assert.Equal("run.2", _secrets.Redeem(inTime)?.Name);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(_secrets.Redeem(late));
    }

    [Fact]
    public void Issue_GivesUrlSafeSecretsThatDiffer_AndForgetsExpiredOnes()
    {
        var first = _secrets.Issue(new Run("run.1"));
        var second = _secrets.Issue(new Run("run.2"));

        Assert.NotEqual(first, second);
        Assert.All([first, second], s => Assert.Matches("^[A-Za-z0-9_-]{43}$", s));
        _time.Advance(RendezvousSecrets<Run>.Lifetime);
        _secrets.Issue(new Run("run.3"));
        Assert.Equal(1, _secrets.Pending);
    }
}
