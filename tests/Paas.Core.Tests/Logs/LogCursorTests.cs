using Paas.Core.Logs;

namespace Paas.Core.Tests.Logs;

public sealed class LogCursorTests
{
    [Fact]
    public void Advance_OnResume_SkipsWhatWasHandled_IncludingLinesSharingTheLastTimestamp()
    {
        // First run: five lines, the last three with the same timestamp; the agent stops after the fourth.
        var first = new LogCursor();
        foreach (var t in new long[] { 100, 200, 300, 300 })
            Assert.True(first.Advance(t));
        var stored = first.ToString();

        // The engine replays from the cursor's second on: everything again, plus what came meanwhile.
        var resumed = LogCursor.Parse(stored);
        var written = new[] { 100L, 200, 300, 300, 300, 400 }.Where(resumed.Advance).ToList();

        Assert.Equal([300L, 400], written);
    }

    [Fact]
    public void Parse_NothingOrGarbage_StartsFromTheBeginning()
    {
        Assert.True(LogCursor.Parse(null).IsAtStart);
        Assert.True(LogCursor.Parse("not a cursor").IsAtStart);
    }

    [Fact]
    public void Since_IsTheWholeSecondOfTheLastLine() =>
        Assert.Equal("1795906800", new LogCursor(1_795_906_800_123_456_789, 1).Since);
}
