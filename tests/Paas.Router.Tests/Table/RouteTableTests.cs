using Paas.Router.Table;

namespace Paas.Router.Tests.Table;

public class RouteTableTests
{
    private static InstanceEndpoint Web(string instance, string app, int port) =>
        new(instance, app, "web", 1, $"127.0.0.1:{port}");

    private static string Json(string app, int port) =>
        $$"""{"app":"{{app}}","process":"web","release":1,"address":"127.0.0.1:{{port}}"}""";

    private static RouteTable Apply(RouteTable table, RouteChangeKind kind, string key, string? value)
    {
        Assert.True(table.TryApply(new TableChange(kind, key, value), out var next));
        return next;
    }

    [Fact]
    public void AHostsAppNameIsTheSameStringAsItsPoolsKey()
    {
        // What makes the host -> app -> pool lookup compare names by reference (measured: ~1.5% of CPU
        // with 100,000 apps); names read from Redis at different times must still come out as one string.
        var table = Apply(RouteTable.Empty, RouteChangeKind.HostSet, "x.localhost", new string("shared-app".ToCharArray()));
        Assert.True(InstanceEndpoint.TryParse("shared-app-web-1", Json(new string("shared-app".ToCharArray()), 1), out var endpoint));
        table = Apply(table, RouteChangeKind.RouteSet, "shared-app-web-1", endpoint.Source);

        Assert.Same(table.Hosts["x.localhost"], table.PoolFor("shared-app")!.App);
        Assert.Same(table.Hosts["x.localhost"], table.Lookup("x.localhost").App);
    }

    [Fact]
    public void BuildMapsHostsToAppsToSortedEndpoints()
    {
        var table = RouteTable.Build(
            7,
            [new("hello.localhost", "hello"), new("Other.Localhost", "other"), new("api.localhost", "hello")],
            [Web("hello-web-2", "hello", 2), Web("hello-web-1", "hello", 1), Web("worker-x", "lonely", 3)]);

        Assert.Equal(7, table.Version);
        Assert.Equal(3, table.Hosts.Count);
        Assert.Equal("other", table.Hosts["other.localhost"]);

        var lookup = table.Lookup("hello.localhost");
        Assert.Equal(RouteLookupStatus.Found, lookup.Status);
        Assert.Equal("hello", lookup.App);
        Assert.Equal(["hello-web-1", "hello-web-2"], lookup.Endpoints.Select(e => e.Instance));

        Assert.Equal(lookup.Endpoints, table.Lookup("api.localhost").Endpoints);
        Assert.Equal(RouteLookupStatus.NoEndpoints, table.Lookup("other.localhost").Status);
        Assert.Equal("other", table.Lookup("other.localhost").App);
        Assert.Equal(RouteLookupStatus.UnknownHost, table.Lookup("nope.localhost").Status);
    }

    [Fact]
    public void BuildSkipsBlankHostsAndApps()
    {
        var table = RouteTable.Build(1, [new("", "app"), new("x.localhost", " ")], []);

        Assert.Empty(table.Hosts);
    }

    [Fact]
    public void HostSetAddsAndReplaces()
    {
        var table = Apply(RouteTable.Empty, RouteChangeKind.HostSet, "Hello.Localhost", "hello");
        Assert.Equal(1, table.Version);
        Assert.Equal("hello", table.Hosts["hello.localhost"]);

        table = Apply(table, RouteChangeKind.HostSet, "hello.localhost", "hello2");
        Assert.Equal(2, table.Version);
        Assert.Equal("hello2", table.Hosts["hello.localhost"]);
    }

    [Fact]
    public void HostDelRemovesHost()
    {
        var table = RouteTable.Build(1, [new("hello.localhost", "hello")], [Web("i1", "hello", 1)]);

        table = Apply(table, RouteChangeKind.HostDel, "hello.localhost", null);

        Assert.Equal(2, table.Version);
        Assert.Equal(RouteLookupStatus.UnknownHost, table.Lookup("hello.localhost").Status);
        // The app's endpoints stay: another host may still point at the app.
        Assert.Single(table.EndpointsFor("hello"));
    }

    [Fact]
    public void RouteSetAddsInInstanceOrderAndUpdatesInPlace()
    {
        var table = RouteTable.Build(1, [new("hello.localhost", "hello")], []);

        table = Apply(table, RouteChangeKind.RouteSet, "b", Json("hello", 2));
        table = Apply(table, RouteChangeKind.RouteSet, "c", Json("hello", 3));
        table = Apply(table, RouteChangeKind.RouteSet, "a", Json("hello", 1));
        Assert.Equal(["a", "b", "c"], table.EndpointsFor("hello").Select(e => e.Instance));
        Assert.Equal(4, table.Version);

        table = Apply(table, RouteChangeKind.RouteSet, "b", Json("hello", 22));
        Assert.Equal(["127.0.0.1:1", "127.0.0.1:22", "127.0.0.1:3"], table.EndpointsFor("hello").Select(e => e.Address));
        Assert.Equal(5, table.Version);
    }

    [Fact]
    public void RouteSetMovingAnInstanceBetweenAppsRemovesItFromTheOldApp()
    {
        var table = RouteTable.Build(1, [], [Web("i1", "old", 1)]);

        table = Apply(table, RouteChangeKind.RouteSet, "i1", Json("new", 1));

        Assert.Empty(table.EndpointsFor("old"));
        Assert.Single(table.EndpointsFor("new"));
    }

    [Fact]
    public void RouteDelRemovesEndpoint()
    {
        var table = RouteTable.Build(1, [new("hello.localhost", "hello")], [Web("i1", "hello", 1), Web("i2", "hello", 2)]);

        table = Apply(table, RouteChangeKind.RouteDel, "i1", null);
        Assert.Equal(["i2"], table.EndpointsFor("hello").Select(e => e.Instance));
        Assert.False(table.Instances.ContainsKey("i1"));

        table = Apply(table, RouteChangeKind.RouteDel, "i2", null);
        Assert.Equal(RouteLookupStatus.NoEndpoints, table.Lookup("hello.localhost").Status);
    }

    [Fact]
    public void ChangesThatChangeNothingKeepTheSameSnapshot()
    {
        var table = RouteTable.Build(3, [new("hello.localhost", "hello")], [Web("i1", "hello", 1)]);

        Assert.Same(table, Apply(table, RouteChangeKind.RouteDel, "missing", null));
        Assert.Same(table, Apply(table, RouteChangeKind.HostDel, "missing.localhost", null));
        Assert.Same(table, Apply(table, RouteChangeKind.HostSet, "hello.localhost", "hello"));
        Assert.Same(table, Apply(table, RouteChangeKind.RouteSet, "i1", Json("hello", 1)));
    }

    [Theory]
    [InlineData(RouteChangeKind.RouteSet, "i1", "not json")]
    [InlineData(RouteChangeKind.RouteSet, "i1", null)]
    [InlineData(RouteChangeKind.HostSet, "hello.localhost", null)]
    [InlineData(RouteChangeKind.HostSet, "hello.localhost", "")]
    public void InvalidChangesAreRefusedAndLeaveTheTableAlone(RouteChangeKind kind, string key, string? value)
    {
        var table = RouteTable.Build(1, [new("hello.localhost", "hello")], []);

        Assert.False(table.TryApply(new TableChange(kind, key, value), out var next));
        Assert.Same(table, next);
    }

    [Fact]
    public void OlderSnapshotsAreUnaffectedByLaterChanges()
    {
        var before = RouteTable.Build(1, [new("hello.localhost", "hello")], [Web("i1", "hello", 1)]);

        var after = Apply(before, RouteChangeKind.RouteDel, "i1", null);

        Assert.Single(before.EndpointsFor("hello"));
        Assert.Empty(after.EndpointsFor("hello"));
    }

    [Fact]
    public void StoreSwapsSnapshots()
    {
        var store = new RouteTableStore();
        Assert.Same(RouteTable.Empty, store.Current);

        var table = RouteTable.Build(1, [], []);
        Assert.Same(RouteTable.Empty, store.Publish(table));
        Assert.Same(table, store.Current);
    }
}
