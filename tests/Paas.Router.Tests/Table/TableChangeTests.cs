using Paas.Router.Table;

namespace Paas.Router.Tests.Table;

public class TableChangeTests
{
    [Theory]
    [InlineData("host-set", RouteChangeKind.HostSet)]
    [InlineData("host-del", RouteChangeKind.HostDel)]
    [InlineData("route-set", RouteChangeKind.RouteSet)]
    [InlineData("route-del", RouteChangeKind.RouteDel)]
    public void ParsesEachKind(string kind, RouteChangeKind expected)
    {
        Assert.True(TableChange.TryParse($$"""{"kind":"{{kind}}","key":"k","value":"v"}""", out var change));
        Assert.Equal(new TableChange(expected, "k", "v"), change);
    }

    [Fact]
    public void CarriesTheVersionTheWriterProduced()
    {
        var written = Paas.Core.Routing.RoutingJson.Write(new Paas.Core.Routing.RouteChange("host-set", "k", "v", 42));

        Assert.True(TableChange.TryParse(written, out var change));
        Assert.Equal(new TableChange(RouteChangeKind.HostSet, "k", "v", 42), change);
        Assert.True(TableChange.TryParse("""{"kind":"endpoint-down","key":"i1","value":"500"}""", out var unversioned));
        Assert.Null(unversioned.Version);
    }

    [Fact]
    public void NullValueForDeletes()
    {
        Assert.True(TableChange.TryParse("""{"kind":"route-del","key":"i1","value":null}""", out var change));
        Assert.Null(change.Value);
    }

    [Fact]
    public void RouteValueArrivesAsAnEmbeddedJsonString()
    {
        const string message = """{"kind":"route-set","key":"i1","value":"{\"app\":\"hello\",\"address\":\"127.0.0.1:5000\"}"}""";

        Assert.True(TableChange.TryParse(message, out var change));
        Assert.Equal("""{"app":"hello","address":"127.0.0.1:5000"}""", change.Value);
    }

    [Fact]
    public void InlineObjectValueIsNotTheContract()
    {
        // The one writer (RouteWriter through RoutingJson) sends the hash value as a string; anything else is
        // a message nobody in the platform wrote.
        Assert.False(TableChange.TryParse("""{"kind":"route-set","key":"i1","value":{"app":"hello","address":"127.0.0.1:5000"}}""", out _));
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
    public void RejectsMalformedMessages(string json)
    {
        Assert.False(TableChange.TryParse(json, out _));
    }
}
