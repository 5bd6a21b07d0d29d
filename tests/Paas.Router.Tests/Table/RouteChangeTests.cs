using Paas.Router.Table;

namespace Paas.Router.Tests.Table;

public class RouteChangeTests
{
    [Theory]
    [InlineData("host-set", RouteChangeKind.HostSet)]
    [InlineData("host-del", RouteChangeKind.HostDel)]
    [InlineData("route-set", RouteChangeKind.RouteSet)]
    [InlineData("route-del", RouteChangeKind.RouteDel)]
    public void Parses_each_kind(string kind, RouteChangeKind expected)
    {
        Assert.True(RouteChange.TryParse($$"""{"kind":"{{kind}}","key":"k","value":"v"}""", out var change));
        Assert.Equal(new RouteChange(expected, "k", "v"), change);
    }

    [Fact]
    public void Carries_the_version_the_writer_produced()
    {
        var written = System.Text.Json.JsonSerializer.Serialize(new Paas.Core.Routing.RouteChange("host-set", "k", "v", 42));

        Assert.True(RouteChange.TryParse(written, out var change));
        Assert.Equal(new RouteChange(RouteChangeKind.HostSet, "k", "v", 42), change);
        Assert.True(RouteChange.TryParse("""{"kind":"endpoint-down","key":"i1","value":"500"}""", out var unversioned));
        Assert.Null(unversioned.Version);
    }

    [Fact]
    public void Null_value_for_deletes()
    {
        Assert.True(RouteChange.TryParse("""{"kind":"route-del","key":"i1","value":null}""", out var change));
        Assert.Null(change.Value);
    }

    [Fact]
    public void Route_value_arrives_as_an_embedded_json_string()
    {
        const string message = """{"kind":"route-set","key":"i1","value":"{\"app\":\"hello\",\"address\":\"127.0.0.1:5000\"}"}""";

        Assert.True(RouteChange.TryParse(message, out var change));
        Assert.Equal("""{"app":"hello","address":"127.0.0.1:5000"}""", change.Value);
    }

    [Fact]
    public void Inline_object_value_is_tolerated()
    {
        Assert.True(RouteChange.TryParse("""{"kind":"route-set","key":"i1","value":{"app":"hello","address":"127.0.0.1:5000"}}""", out var change));
        Assert.True(InstanceEndpoint.TryParse(change.Key, change.Value, out var endpoint));
        Assert.Equal("127.0.0.1:5000", endpoint.Address);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("""{"kind":"host-rename","key":"k","value":"v"}""")]
    [InlineData("""{"kind":"host-set","value":"v"}""")]
    [InlineData("""{"kind":"host-set","key":"","value":"v"}""")]
    [InlineData("""{"key":"k","value":"v"}""")]
    [InlineData("""{"kind":"host-set","key":"k","value":"v","version":"7"}""")]
    [InlineData("""{"kind":"host-set","key":"k","value":"v","version":0}""")]
    [InlineData("""{"kind":"host-set","key":"k","value":"v","version":1.5}""")]
    public void Rejects_malformed_messages(string json)
    {
        Assert.False(RouteChange.TryParse(json, out _));
    }
}
