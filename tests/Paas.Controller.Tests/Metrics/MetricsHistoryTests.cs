using Paas.Controller.Metrics;
using Paas.Core.Metrics;

namespace Paas.Controller.Tests.Metrics;

public sealed class MetricsHistoryTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 31, 10, 0, 0, TimeSpan.Zero);

    private static long[] Buckets(int index, long count)
    {
        var buckets = new long[LatencyBuckets.Count];
        buckets[index] = count;
        return buckets;
    }

    [Fact]
    public void AddTraffic_SameTenSeconds_AddsIntoOnePoint()
    {
        var time = new ManualTime(Start);
        var history = new MetricsHistory(time);
        history.AddTraffic("web", new Dictionary<int, long> { [200] = 5 }, Buckets(2, 5));
        time.Advance(TimeSpan.FromSeconds(9));
        history.AddTraffic("web", new Dictionary<int, long> { [200] = 1, [503] = 2 }, Buckets(2, 3));

        var window = history.Query("web", Start - TimeSpan.FromMinutes(5));
        var point = Assert.Single(window.Points);
        Assert.Equal(TimeSpan.FromSeconds(10), window.Step);
        Assert.Equal(Start, point.Start);
        Assert.Equal(8, point.Requests);
        Assert.Equal(2, point.ByStatus[503]);
        Assert.Equal(8, point.Buckets[2]);
    }

    [Fact]
    public void Query_BeyondAnHour_UsesMinutePoints()
    {
        var time = new ManualTime(Start);
        var history = new MetricsHistory(time);
        for (var i = 0; i < 12; i++)
        {
            history.AddTraffic("web", new Dictionary<int, long> { [200] = 1 }, Buckets(0, 1));
            time.Advance(TimeSpan.FromSeconds(10));
        }

        var fine = history.Query("web", Start);
        var coarse = history.Query("web", time.GetUtcNow() - TimeSpan.FromHours(3));
        Assert.Equal(12, fine.Points.Count);
        Assert.Equal(TimeSpan.FromMinutes(1), coarse.Step);
        Assert.Equal([6L, 6L], coarse.Points.Select(p => p.Requests));
    }

    [Fact]
    public void Query_AfterRetention_OldPointsAreGone()
    {
        var time = new ManualTime(Start);
        var history = new MetricsHistory(time);
        history.AddTraffic("web", new Dictionary<int, long> { [200] = 7 }, Buckets(0, 7));

        time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(10));
        history.AddTraffic("web", new Dictionary<int, long> { [200] = 1 }, Buckets(0, 1));
        var lastHour = history.Query("web", time.GetUtcNow() - MetricsHistory.FineSpan);
        Assert.Equal(MetricsHistory.FineStep, lastHour.Step);
        Assert.Equal([1L], lastHour.Points.Select(p => p.Requests));
        Assert.Contains(history.Query("web", Start - TimeSpan.FromHours(2)).Points, p => p.Start == Start && p.Requests == 7);

        time.Advance(TimeSpan.FromHours(24));
        Assert.Empty(history.Query("web", Start - TimeSpan.FromHours(2)).Points);
    }

    [Fact]
    public void SetUsage_LatestSampleInASlotWins()
    {
        var time = new ManualTime(Start);
        var history = new MetricsHistory(time);
        history.SetUsage("web", "web", new ProcessUsage(1, 3, 100));
        history.SetUsage("web", "web", new ProcessUsage(2, 5, 300));
        Assert.Equal(new ProcessUsage(2, 5, 300), Assert.Single(history.Query("web", Start).Points).Usage["web"]);
    }

    [Fact]
    public void Query_UnknownApp_IsEmpty() =>
        Assert.Empty(new MetricsHistory(new ManualTime(Start)).Query("nope", Start).Points);

    [Fact]
    public void Describe_NoTraffic_SummaryIsNullNotZeros()
    {
        var history = new MetricsHistory(new ManualTime(Start));
        var json = System.Text.Json.JsonSerializer.SerializeToElement(
            MetricsEndpoints.Describe("web", Start - TimeSpan.FromMinutes(5), Start, history.Query("web", Start - TimeSpan.FromMinutes(5))));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.GetProperty("summary").ValueKind);
    }

    [Theory]
    [InlineData("15m", 15 * 60)]
    [InlineData("2h", 2 * 3600)]
    [InlineData(null, 5 * 60)]
    [InlineData("2026-01-31T09:00:00Z", 3600)]
    public void ParseSince_AgeOrTime(string? text, int secondsBefore) =>
        Assert.Equal(Start - TimeSpan.FromSeconds(secondsBefore), MetricsEndpoints.ParseSince(text, Start));

    [Theory]
    [InlineData("yesterday")]
    [InlineData("25h")]
    [InlineData("2030-01-01T00:00:00Z")]
    public void ParseSince_Nonsense_IsRefused(string text) => Assert.Null(MetricsEndpoints.ParseSince(text, Start));
}

public sealed class TrafficDeltasTests
{
    private static readonly DateTimeOffset Booted = new(2026, 1, 31, 9, 0, 0, TimeSpan.Zero);

    private static AppTraffic Counts(long ok, DateTimeOffset? started = null) =>
        new(started ?? Booted, new Dictionary<int, long> { [200] = ok }, [ok, 0]);

    [Fact]
    public void Next_FirstReadOfARunningRouter_IsABaseline()
    {
        var deltas = new TrafficDeltas();
        Assert.Null(deltas.Next("r1", "web", Counts(1000)));
        deltas.Seen("r1");
        Assert.Equal(5, deltas.Next("r1", "web", Counts(1005))!.ByStatus[200]);
    }

    [Fact]
    public void Next_AppFirstSeenLater_CountsInFull()
    {
        var deltas = new TrafficDeltas();
        deltas.Next("r1", "web", Counts(10));
        deltas.Seen("r1");
        Assert.Equal(3, deltas.Next("r1", "api", Counts(3))!.ByStatus[200]);
    }

    [Fact]
    public void Next_RouterRestarted_CountsNewCountsInFull()
    {
        var deltas = new TrafficDeltas();
        deltas.Next("r1", "web", Counts(1000));
        deltas.Seen("r1");
        Assert.Equal(4, deltas.Next("r1", "web", Counts(4, Booted.AddHours(1)))!.ByStatus[200]);
    }
}
