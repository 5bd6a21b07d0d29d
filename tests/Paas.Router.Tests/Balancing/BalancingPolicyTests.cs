using Paas.Router.Balancing;
using Paas.Router.Table;

namespace Paas.Router.Tests.Balancing;

public class BalancingPolicyTests
{
    private static AppPool Pool(params string[] instances)
    {
        var table = RouteTable.Build(1, [new("x.localhost", "x")],
            instances.Select((id, i) => new InstanceEndpoint(id, "x", "web", 1, $"127.0.0.1:{1000 + i}")));
        return table.PoolFor("x")!;
    }

    [Fact]
    public void PickDestination_RoundRobin_CyclesInInstanceOrder()
    {
        var pool = Pool("b", "a", "c");

        var picks = Enumerable.Range(0, 6).Select(_ => RoundRobinPolicy.Instance.Pick(pool, null, null, 0)!.Instance);

        Assert.Equal(["a", "b", "c", "a", "b", "c"], picks);
    }

    [Fact]
    public void PickDestination_RoundRobin_SkipsTriedAndCoolingEndpoints()
    {
        var pool = Pool("a", "b", "c");
        pool.Routable[1].State.CoolDown(until: 1000);

        var pick = RoundRobinPolicy.Instance.Pick(pool, pool.Routable[0], null, now: 500);

        Assert.Equal("c", pick!.Instance);
    }

    [Fact]
    public void PickDestination_CoolingEndpointIsUsedWhenNothingElseIsLeft()
    {
        var pool = Pool("a", "b");
        pool.Routable[0].State.CoolDown(until: 1000);

        Assert.Equal("a", RoundRobinPolicy.Instance.Pick(pool, pool.Routable[1], null, now: 500)!.Instance);
        Assert.Null(RoundRobinPolicy.Instance.Pick(pool, pool.Routable[0], pool.Routable[1], now: 500));

        // Past the deadline it is an ordinary endpoint again.
        Assert.False(pool.Routable[0].State.IsCooling(1000));
    }

    [Fact]
    public void PickDestination_LeastRequests_ChoosesLeastLoaded()
    {
        var pool = Pool("a", "b", "c");
        pool.Routable[0].State.Begin();
        pool.Routable[0].State.Begin();
        pool.Routable[2].State.Begin();

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("b", LeastRequestsPolicy.Instance.Pick(pool, null, null, 0)!.Instance);
        }

        pool.Routable[1].State.Begin();
        pool.Routable[1].State.Begin();
        Assert.Equal("c", LeastRequestsPolicy.Instance.Pick(pool, null, null, 0)!.Instance);
    }

    [Fact]
    public void PickDestination_LeastRequests_SpreadsTies()
    {
        var pool = Pool("a", "b", "c");

        var picks = Enumerable.Range(0, 30).Select(_ => LeastRequestsPolicy.Instance.Pick(pool, null, null, 0)!.Instance).ToHashSet();

        Assert.Equal(3, picks.Count);
    }

    [Fact]
    public void RoundRobinPositionSurvivesATableChange()
    {
        var table = RouteTable.Build(1, [new("x.localhost", "x")],
            [new InstanceEndpoint("a", "x", "web", 1, "127.0.0.1:1"), new InstanceEndpoint("b", "x", "web", 1, "127.0.0.1:2")]);
        Assert.Equal("a", RoundRobinPolicy.Instance.Pick(table.PoolFor("x")!, null, null, 0)!.Instance);

        Assert.True(table.TryApply(new TableChange(RouteChangeKind.HostSet, "y.localhost", "y"), out var next));

        Assert.Equal("b", RoundRobinPolicy.Instance.Pick(next.PoolFor("x")!, null, null, 0)!.Instance);
    }
}
