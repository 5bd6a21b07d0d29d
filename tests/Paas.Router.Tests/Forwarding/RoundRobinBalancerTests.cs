using Paas.Router.Forwarding;

namespace Paas.Router.Tests.Forwarding;

public class RoundRobinBalancerTests
{
    [Fact]
    public void Cycles_through_endpoints_starting_at_the_first()
    {
        var balancer = new RoundRobinBalancer();

        var picks = Enumerable.Range(0, 7).Select(_ => balancer.NextIndex("hello", 3)).ToArray();

        Assert.Equal([0, 1, 2, 0, 1, 2, 0], picks);
    }

    [Fact]
    public void Keeps_one_counter_per_app()
    {
        var balancer = new RoundRobinBalancer();

        Assert.Equal(0, balancer.NextIndex("a", 2));
        Assert.Equal(1, balancer.NextIndex("a", 2));
        Assert.Equal(0, balancer.NextIndex("b", 2));
        Assert.Equal(0, balancer.NextIndex("a", 2));
    }

    [Fact]
    public void Single_endpoint_is_always_chosen()
    {
        var balancer = new RoundRobinBalancer();

        Assert.All(Enumerable.Range(0, 5), _ => Assert.Equal(0, balancer.NextIndex("a", 1)));
    }

    [Fact]
    public void Spreads_evenly_under_concurrency()
    {
        var balancer = new RoundRobinBalancer();
        var counts = new int[4];

        Parallel.For(0, 4000, _ => Interlocked.Increment(ref counts[balancer.NextIndex("busy", 4)]));

        Assert.All(counts, c => Assert.Equal(1000, c));
    }

    [Fact]
    public void Rejects_empty_endpoint_list()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RoundRobinBalancer().NextIndex("a", 0));
    }
}
