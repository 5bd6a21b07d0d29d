using Paas.Router.Table;

namespace Paas.Router.Tests.Table;

/// <summary>
/// The host-to-pool index the lookup tries first must always say what host-to-app-to-pool says, whatever
/// sequence of changes built the snapshot: a stale entry would send a host's traffic to an old pool.
/// </summary>
public class HostPoolIndexTests
{
    private static string Json(string app, int port, string? cell = null) =>
        $$"""{"app":"{{app}}","process":"web","release":1,"address":"127.0.0.1:{{port}}"{{(cell is null ? "" : $",\"cell\":\"{cell}\"")}}}""";

    [Fact]
    public void After_any_sequence_of_changes_the_index_agrees_with_the_two_step_lookup()
    {
        var random = new Random(20261128);
        var apps = Enumerable.Range(0, 6).Select(i => $"app{i}").ToArray();
        var hosts = Enumerable.Range(0, 12).Select(i => $"h{i}.example.com").Append("*.wild.example.com").ToArray();
        var table = RouteTable.Build(1, [new("h0.example.com", "app0")], [new("app0-web-1", "app0", "web", 1, "127.0.0.1:1000")]);

        for (var step = 0; step < 400; step++)
        {
            var app = apps[random.Next(apps.Length)];
            var instance = $"{app}-web-{random.Next(3)}";
            RouteChange change = random.Next(7) switch
            {
                0 or 1 => new(RouteChangeKind.HostSet, hosts[random.Next(hosts.Length)], app),
                2 => new(RouteChangeKind.HostDel, hosts[random.Next(hosts.Length)], null),
                3 or 4 => new(RouteChangeKind.RouteSet, instance, Json(app, 1000 + random.Next(50), random.Next(2) == 0 ? "cell-a" : null)),
                5 => new(RouteChangeKind.RouteDel, instance, null),
                _ => new(RouteChangeKind.AppOptionsSet, app, $$"""{"timeout_seconds":{{random.Next(1, 4)}}}"""),
            };

            Assert.True(table.TryApply(change, out var next), $"step {step}: {change}");
            table = next;
            if (step % 50 == 49)
            {
                // A heartbeat lapse (cells dead) and recovery also rebuild pools.
                var builder = new RouteTableBuilder(table);
                builder.SetDeadCells(step % 100 == 49 ? ["cell-a"] : []);
                table = builder.Build(table.Version + 1);
            }

            foreach (var host in hosts.Select(h => h.Replace("*", "x")).Append("a.wild.example.com"))
            {
                var lookup = table.Lookup(host);
                var expectedApp = table.Hosts.GetValueOrDefault(host)
                    ?? (host.EndsWith(".wild.example.com") ? table.Hosts.GetValueOrDefault("*.wild.example.com") : null);
                if (expectedApp is null)
                {
                    Assert.Equal(RouteLookupStatus.UnknownHost, lookup.Status);
                    continue;
                }

                var expected = table.PoolFor(expectedApp);
                Assert.Equal(expectedApp, lookup.App);
                if (expected is null || expected.Routable.Length == 0)
                {
                    Assert.Equal(RouteLookupStatus.NoEndpoints, lookup.Status);
                }
                else
                {
                    Assert.Equal(RouteLookupStatus.Found, lookup.Status);
                    Assert.Same(expected, lookup.Pool);
                }
            }
        }
    }
}
