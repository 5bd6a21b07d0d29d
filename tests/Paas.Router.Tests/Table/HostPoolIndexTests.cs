using Paas.Router.Table;

namespace Paas.Router.Tests.Table;

/// <summary>
/// The table answers exact hosts from a host → pool index that changes patch rather than rebuild. These
/// check that a patched index always answers as a table built whole from the same registry would.
/// </summary>
public class HostPoolIndexTests
{
    private static string Json(string app, int port) =>
        $$"""{"app":"{{app}}","process":"web","release":1,"address":"127.0.0.1:{{port}}"}""";

    private static RouteTable Apply(RouteTable table, RouteChangeKind kind, string key, string? value = null)
    {
        Assert.True(table.TryApply(new TableChange(kind, key, value), out var next));
        return next;
    }

    private static string[] Instances(RouteTable table, string host) =>
        [.. table.Lookup(host).Endpoints.Select(e => e.Instance)];

    [Fact]
    public void AHostFollowsItsAppThroughMovesDeletesAndPoolChanges()
    {
        var table = Apply(RouteTable.Empty, RouteChangeKind.HostSet, "shop.localhost", "a");
        Assert.Equal(RouteLookupStatus.NoEndpoints, table.Lookup("shop.localhost").Status);

        table = Apply(table, RouteChangeKind.RouteSet, "a-web-1", Json("a", 1));
        table = Apply(table, RouteChangeKind.RouteSet, "b-web-1", Json("b", 2));
        Assert.Equal(["a-web-1"], Instances(table, "SHOP.localhost:8080"));

        var beforeMove = table;
        table = Apply(table, RouteChangeKind.HostSet, "shop.localhost", "b");
        Assert.Equal(["b-web-1"], Instances(table, "shop.localhost"));
        Assert.Equal(["a-web-1"], Instances(beforeMove, "shop.localhost"));

        // The app the host left gets a new pool: the host must not be pointed back at it.
        table = Apply(table, RouteChangeKind.RouteSet, "a-web-2", Json("a", 3));
        Assert.Equal(["b-web-1"], Instances(table, "shop.localhost"));

        table = Apply(table, RouteChangeKind.RouteSet, "b-web-2", Json("b", 4));
        Assert.Equal(["b-web-1", "b-web-2"], Instances(table, "shop.localhost"));

        table = Apply(table, RouteChangeKind.RouteDel, "b-web-1");
        table = Apply(table, RouteChangeKind.RouteDel, "b-web-2");
        Assert.Equal(RouteLookupStatus.NoEndpoints, table.Lookup("shop.localhost").Status);
        Assert.Equal("b", table.Lookup("shop.localhost").App);

        table = Apply(table, RouteChangeKind.HostDel, "shop.localhost");
        Assert.Equal(RouteLookupStatus.UnknownHost, table.Lookup("shop.localhost").Status);

        table = Apply(table, RouteChangeKind.HostSet, "shop.localhost", "a");
        Assert.Equal(["a-web-1", "a-web-2"], Instances(table, "shop.localhost"));
    }

    [Fact]
    public void ABatchThatMovesAHostAndRebuildsBothPoolsLeavesEveryHostRight()
    {
        var table = Apply(RouteTable.Empty, RouteChangeKind.HostSet, "one.localhost", "a");
        table = Apply(table, RouteChangeKind.HostSet, "two.localhost", "a");
        table = Apply(table, RouteChangeKind.RouteSet, "a-web-1", Json("a", 1));

        var builder = new RouteTableBuilder(table);
        Assert.True(builder.TryApply(new TableChange(RouteChangeKind.RouteSet, "b-web-1", Json("b", 2))));
        Assert.True(builder.TryApply(new TableChange(RouteChangeKind.HostSet, "two.localhost", "b")));
        Assert.True(builder.TryApply(new TableChange(RouteChangeKind.RouteSet, "a-web-2", Json("a", 3))));
        table = builder.Build(table.Version + 1);

        Assert.Equal(["a-web-1", "a-web-2"], Instances(table, "one.localhost"));
        Assert.Equal(["b-web-1"], Instances(table, "two.localhost"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomChangesAnswerAsATableBuiltWholeFromTheSameRegistry(int seed)
    {
        var random = new Random(seed);
        string[] hosts = [.. Enumerable.Range(0, 12).Select(i => $"h{i}.localhost")];
        string[] apps = ["a", "b", "c", "d"];
        var hostApps = new Dictionary<string, string>();
        var endpoints = new Dictionary<string, InstanceEndpoint>();
        var table = RouteTable.Empty;

        for (var step = 0; step < 1500; step++)
        {
            var builder = new RouteTableBuilder(table);
            // Batches of one to three changes, as the route source applies a burst of messages at once.
            for (var n = random.Next(1, 4); n > 0; n--)
            {
                var host = hosts[random.Next(hosts.Length)];
                var app = apps[random.Next(apps.Length)];
                var instance = $"{app}-web-{random.Next(3)}";
                switch (random.Next(4))
                {
                    case 0:
                        Assert.True(builder.SetHost(host, app));
                        hostApps[host] = app;
                        break;
                    case 1:
                        Assert.True(builder.RemoveHost(host));
                        hostApps.Remove(host);
                        break;
                    case 2:
                        var endpoint = new InstanceEndpoint(instance, app, "web", 1, $"127.0.0.1:{random.Next(1, 9)}");
                        builder.SetEndpoint(endpoint);
                        endpoints[instance] = endpoint;
                        break;
                    default:
                        builder.RemoveEndpoint(instance);
                        endpoints.Remove(instance);
                        break;
                }
            }

            table = builder.Build(table.Version + 1);
            var whole = RouteTable.Build(table.Version, hostApps, endpoints.Values);
            foreach (var host in hosts)
            {
                var patched = table.Lookup(host);
                var expected = whole.Lookup(host);
                Assert.True(expected.Status == patched.Status && expected.App == patched.App,
                    $"step {step}, {host}: expected {expected.Status} {expected.App}, got {patched.Status} {patched.App}");
                Assert.Equal(Instances(whole, host), Instances(table, host));
            }
        }
    }
}
