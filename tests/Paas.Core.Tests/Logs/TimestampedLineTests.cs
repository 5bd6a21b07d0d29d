using Paas.Core.Logs;

namespace Paas.Core.Tests.Logs;

public sealed class TimestampedLineTests
{
    [Fact]
    public void TryParse_EngineLine_KeepsNanosecondsAndText()
    {
        Assert.True(TimestampedLine.TryParse("2026-11-27T23:00:00.123456789Z listening on 0.0.0.0:5000", out var line));

        Assert.Equal(new DateTimeOffset(2026, 11, 27, 23, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds() * 1_000_000_000 + 123_456_789, line.UnixNanos);
        Assert.Equal("listening on 0.0.0.0:5000", line.Text);
    }

    [Fact]
    public void TryParse_ShortFractionAndEmptyText_AreRead()
    {
        Assert.True(TimestampedLine.TryParse("2026-11-27T23:00:00.5Z ", out var line));

        Assert.Equal(500_000_000, line.UnixNanos % 1_000_000_000);
        Assert.Equal("", line.Text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello world")]
    [InlineData("2026-13-45T99:00:00Z text")]
    public void TryParse_NoTimestamp_Fails(string raw) => Assert.False(TimestampedLine.TryParse(raw, out _));
}
