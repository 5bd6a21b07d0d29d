using Paas.Router.Table;

namespace Paas.Router.Tests.Table;

public class InstanceEndpointTests
{
    [Fact]
    public void ParsesTheControllerJson()
    {
        const string json = """{"instance":"hello-web-1-v2-ab12cd","app":"hello","process":"web","release":2,"address":"127.0.0.1:32768"}""";

        Assert.True(InstanceEndpoint.TryParse("hello-web-1-v2-ab12cd", json, out var endpoint));
        Assert.Equal(new InstanceEndpoint("hello-web-1-v2-ab12cd", "hello", "web", 2, "127.0.0.1:32768"), endpoint);
    }

    [Fact]
    public void HashFieldWinsOverInstanceProperty()
    {
        Assert.True(InstanceEndpoint.TryParse("field-id", """{"instance":"other","app":"a","address":"127.0.0.1:1"}""", out var endpoint));
        Assert.Equal("field-id", endpoint.Instance);
        Assert.Equal("web", endpoint.Process);
        Assert.Equal(0, endpoint.Release);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"app":"a"}""")]
    [InlineData("""{"address":"127.0.0.1:1"}""")]
    [InlineData("""{"app":"a","address":"127.0.0.1"}""")]
    [InlineData("""{"app":"a","address":"evil.example/path:80"}""")]
    [InlineData("""{"app":"a","address":"user@127.0.0.1:80"}""")]
    [InlineData("""{"app":"","address":"127.0.0.1:1"}""")]
    [InlineData("")]
    public void RejectsUnusableValues(string json)
    {
        Assert.False(InstanceEndpoint.TryParse("i", json, out _));
    }
}
