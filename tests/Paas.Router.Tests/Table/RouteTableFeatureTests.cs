using Paas.Router.Table;

namespace Paas.Router.Tests.Table;

public class RouteTableFeatureTests
{
    private static InstanceEndpoint Web(string instance, string app, string? cell = null) =>
        new(instance, app, "web", 1, "127.0.0.1:1000", cell);

    [Fact]
    public void LookupPrefersExactHostThenTheWildcardOneLabelUp()
    {
        var table = RouteTable.Build(1,
            [new("*.example.com", "wide"), new("*.api.example.com", "api"), new("www.example.com", "www")],
            [Web("w", "wide"), Web("a", "api"), Web("x", "www")]);

        Assert.Equal("www", table.Lookup("WWW.Example.com:443").App);
        Assert.Equal("api", table.Lookup("v1.api.example.com").App);
        Assert.Equal("wide", table.Lookup("shop.example.com.").App);
        // A wildcard covers one label, as in TLS: deeper names are nobody's unless named.
        Assert.Equal(RouteLookupStatus.UnknownHost, table.Lookup("a.b.c.example.com").Status);
        Assert.Equal(RouteLookupStatus.UnknownHost, table.Lookup("x.www.example.com").Status);
        Assert.Equal(RouteLookupStatus.UnknownHost, table.Lookup("example.com").Status);
        Assert.Equal(RouteLookupStatus.UnknownHost, table.Lookup("example.org").Status);
    }

    [Fact]
    public void MalformedWildcardsAreRefused()
    {
        var builder = new RouteTableBuilder(RouteTable.Empty);

        Assert.False(builder.SetHost("*", "a"));
        Assert.False(builder.SetHost("a*.example.com", "a"));
        Assert.False(builder.SetHost("*.", "a"));
        Assert.True(builder.SetHost("*.ok.test", "a"));
    }

    [Fact]
    public void WildcardHostDelStopsMatching()
    {
        var table = RouteTable.Build(1, [new("*.example.com", "wide")], [Web("w", "wide")]);

        Assert.True(table.TryApply(new TableChange(RouteChangeKind.HostDel, "*.example.com", null), out var next));

        Assert.Equal(RouteLookupStatus.UnknownHost, next.Lookup("a.example.com").Status);
    }

    [Fact]
    public void DeadCellEndpointsLeaveThePoolAndComeBack()
    {
        var table = RouteTable.Build(1, [new("x.localhost", "x")], [Web("a", "x", "cell-1"), Web("b", "x", "cell-2"), Web("c", "x")]);

        var builder = new RouteTableBuilder(table);
        builder.SetDeadCells(["cell-1"]);
        var pruned = builder.Build(2);

        Assert.Equal(["b", "c"], pruned.Lookup("x.localhost").Endpoints.Select(e => e.Instance));
        Assert.Equal(3, pruned.Instances.Count);

        builder = new RouteTableBuilder(pruned);
        builder.SetDeadCells([]);
        Assert.Equal(["a", "b", "c"], builder.Build(3).Lookup("x.localhost").Endpoints.Select(e => e.Instance));
    }

    [Fact]
    public void AllCellsDeadMeansNoEndpointsNotUnknownHost()
    {
        var table = RouteTable.Build(1, [new("x.localhost", "x")], [Web("a", "x", "cell-1")], deadCells: ["cell-1"]);

        Assert.Equal(RouteLookupStatus.NoEndpoints, table.Lookup("x.localhost").Status);
    }

    [Fact]
    public void AppOptionsApplyAndReset()
    {
        var table = RouteTable.Build(1, [new("x.localhost", "x")], [Web("a", "x")]);

        Assert.True(table.TryApply(new TableChange(RouteChangeKind.AppOptionsSet, "x",
            """{"balancing":"least-requests","sticky_cookie":"SID","timeout_seconds":2.5,"max_body_bytes":10}"""), out var next));
        var options = next.PoolFor("x")!.Options;
        Assert.Equal(BalancingPolicy.LeastRequests, options.Balancing);
        Assert.Equal("SID", options.StickyCookie);
        Assert.Equal(TimeSpan.FromSeconds(2.5), options.Timeout);
        Assert.Equal(10, options.MaxBodyBytes);

        Assert.True(next.TryApply(new TableChange(RouteChangeKind.AppOptionsDel, "x", null), out var reset));
        Assert.Same(AppRouteConfig.Default, reset.PoolFor("x")!.Options);
    }

    [Fact]
    public void UnusableOptionValuesFallBackToDefaults()
    {
        Assert.True(AppRouteConfig.TryParse("""{"balancing":"random","sticky_cookie":"bad name;","timeout_seconds":-1}""", out var config));

        Assert.Equal(AppRouteConfig.Default, config);
        Assert.False(AppRouteConfig.TryParse("not json", out _));
    }

    [Fact]
    public void EndpointStateSurvivesReregistrationAndResync()
    {
        var table = RouteTable.Build(1, [new("x.localhost", "x")], [Web("a", "x")]);
        var state = table.Instances["a"].State;
        state.CoolDown(until: long.MaxValue);

        Assert.True(table.TryApply(new TableChange(RouteChangeKind.RouteSet, "a",
            """{"app":"x","process":"web","release":2,"address":"127.0.0.1:2000"}"""), out var next));
        var resynced = RouteTable.Build(3, [new("x.localhost", "x")], [Web("a", "x")], previous: next);

        Assert.Same(state, next.Instances["a"].State);
        Assert.Same(state, resynced.Instances["a"].State);
    }

    [Fact]
    public void LookupOfALargeTableAllocatesNothing()
    {
        var table = RouteTable.Build(1,
            Enumerable.Range(0, 1000).Select(i => KeyValuePair.Create($"app{i}.localhost", $"app{i}")),
            Enumerable.Range(0, 1000).Select(i => Web($"i{i}", $"app{i}")));
        table.Lookup("App7.localhost:8080");

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            table.Lookup("App7.localhost:8080");
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
