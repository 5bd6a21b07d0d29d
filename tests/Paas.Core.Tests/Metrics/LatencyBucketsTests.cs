using Paas.Core.Metrics;

namespace Paas.Core.Tests.Metrics;

public sealed class LatencyBucketsTests
{
    [Theory]
    [InlineData(0.0001, 0)]    // under the first bound
    [InlineData(0.0005, 0)]    // a bound belongs to its bucket (le)
    [InlineData(0.0006, 1)]
    [InlineData(0.003, 3)]
    [InlineData(0.1, 7)]
    [InlineData(29.9, 14)]
    [InlineData(31, 15)]       // the unbounded bucket
    public void IndexOf_Duration_FallsInFirstBucketWhoseBoundItDoesNotExceed(double seconds, int bucket) =>
        Assert.Equal(bucket, LatencyBuckets.IndexOf(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void Quantile_NothingCounted_IsNull() =>
        Assert.Null(LatencyBuckets.Quantile(new long[LatencyBuckets.Count], 0.5));

    [Fact]
    public void Quantile_AllInOneBucket_InterpolatesInsideIt()
    {
        var counts = new long[LatencyBuckets.Count];
        counts[LatencyBuckets.IndexOf(TimeSpan.FromMilliseconds(20))] = 100; // bucket (10 ms, 25 ms]
        Assert.Equal(0.0175, LatencyBuckets.Quantile(counts, 0.5)!.Value, 6);
        Assert.Equal(0.02485, LatencyBuckets.Quantile(counts, 0.99)!.Value, 6);
    }

    [Fact]
    public void Quantile_SlowTail_P99LandsInTheSlowBucketWhileP50StaysFast()
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < 980; i++)
            histogram.Record(TimeSpan.FromMilliseconds(2));
        for (var i = 0; i < 20; i++)
            histogram.Record(TimeSpan.FromMilliseconds(400));
        var counts = histogram.Snapshot();
        Assert.Equal(1000, histogram.Total);
        Assert.InRange(LatencyBuckets.Quantile(counts, 0.5)!.Value, 0.001, 0.0025);
        Assert.InRange(LatencyBuckets.Quantile(counts, 0.99)!.Value, 0.25, 0.5);
    }

    [Fact]
    public void Quantile_BeyondLastBound_ReportsLastBound()
    {
        var counts = new long[LatencyBuckets.Count];
        counts[^1] = 3;
        Assert.Equal(30, LatencyBuckets.Quantile(counts, 0.5));
    }

    [Fact]
    public void Record_ManyThreads_LosesNoCount()
    {
        var histogram = new LatencyHistogram();
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 10_000; i++)
                histogram.Record(TimeSpan.FromMilliseconds(i % 50));
        });
        Assert.Equal(80_000, histogram.Total);
    }
}
