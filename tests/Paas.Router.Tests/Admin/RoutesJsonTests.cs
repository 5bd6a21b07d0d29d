using System.Text;
using System.Text.Json;
using Paas.Router.Admin;
using Paas.Router.Table;

namespace Paas.Router.Tests.Admin;

public class RoutesJsonTests
{
    [Fact]
    public void RendersTheDocumentedShape()
    {
        var table = RouteTable.Build(
            12,
            [new("hello.localhost", "hello"), new("idle.localhost", "idle")],
            [new InstanceEndpoint("hello-web-1", "hello", "web", 2, "127.0.0.1:32768")]);

        var json = Encoding.UTF8.GetString(RoutesJson.Render(table));

        Assert.Equal(
            """{"version":12,"hosts":{"hello.localhost":{"app":"hello","balancing":"round-robin","endpoints":[{"instance":"hello-web-1","address":"127.0.0.1:32768","cooling":false}]},"idle.localhost":{"app":"idle","balancing":"round-robin","endpoints":[]}}}""",
            json);
        using var _ = JsonDocument.Parse(json);
    }

    [Fact]
    public void EmptyTableRendersVersionZero()
    {
        Assert.Equal("""{"version":0,"hosts":{}}""", Encoding.UTF8.GetString(RoutesJson.Render(RouteTable.Empty)));
    }
}
