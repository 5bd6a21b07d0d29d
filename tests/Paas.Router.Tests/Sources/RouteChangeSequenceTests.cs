using Paas.Router.Sources;

namespace Paas.Router.Tests.Sources;

public class RouteChangeSequenceTests
{
    [Fact]
    public void MessagesInOrder_AreApplied_AndAcknowledgeable()
    {
        var sequence = new RouteChangeSequence();
        sequence.Reloaded(10);

        Assert.Equal(RouteChangeVerdict.Apply, sequence.Observe(11, loadedOnce: true));
        Assert.Equal(RouteChangeVerdict.Apply, sequence.Observe(12, loadedOnce: true));

        Assert.Equal(12, sequence.TableVersion);
        Assert.Equal(12, sequence.CompleteVersion);
        Assert.False(sequence.HasGap);
    }

    [Fact]
    public void AMissingMessage_AsksForAReload_AndNothingPastTheGapIsAcknowledgedUntilIt()
    {
        var sequence = new RouteChangeSequence();
        sequence.Reloaded(10);

        Assert.Equal(RouteChangeVerdict.ApplyAndReload, sequence.Observe(12, loadedOnce: true));
        Assert.Equal(RouteChangeVerdict.Apply, sequence.Observe(13, loadedOnce: true));

        // Write 11 never arrived: acknowledging 13 would tell the controller a route is served that this router lacks.
        Assert.True(sequence.HasGap);
        Assert.Equal(10, sequence.CompleteVersion);
        Assert.Equal(13, sequence.TableVersion);

        sequence.Reloaded(13);
        Assert.False(sequence.HasGap);
        Assert.Equal(13, sequence.CompleteVersion);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(7)]
    public void AMessageNoNewerThanTheTable_IsNotApplied_ButChecked(long version)
    {
        var sequence = new RouteChangeSequence();
        sequence.Reloaded(10);

        // A reload already read it (applying it could undo a later write), or Redis started counting again.
        Assert.Equal(RouteChangeVerdict.CheckCounter, sequence.Observe(version, loadedOnce: true));
        Assert.Equal(10, sequence.TableVersion);
        Assert.Equal(10, sequence.CompleteVersion);
    }

    [Fact]
    public void BeforeTheFirstLoad_AJumpIsNotAGap()
    {
        // Messages that arrive between subscribing and the first load: that load reads everything anyway.
        var sequence = new RouteChangeSequence();

        Assert.Equal(RouteChangeVerdict.Apply, sequence.Observe(40, loadedOnce: false));
        Assert.False(sequence.HasGap);
    }

    [Fact]
    public void AReloadFromAnOlderRedis_SetsTheCounter_SoTheMessagesAfterItApply()
    {
        var sequence = new RouteChangeSequence();
        sequence.Reloaded(500);

        // Redis restored from a snapshot taken at 120: its next writes count 121, 122…
        sequence.Reloaded(120);

        Assert.Equal(RouteChangeVerdict.Apply, sequence.Observe(121, loadedOnce: true));
        Assert.Equal(121, sequence.CompleteVersion);
    }
}
