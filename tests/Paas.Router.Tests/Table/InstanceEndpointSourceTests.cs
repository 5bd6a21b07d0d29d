using Paas.Router.Table;

namespace Paas.Router.Tests.Table;

public class InstanceEndpointSourceTests
{
    [Fact]
    public void ParsingKeepsTheSourceTextButEqualityIgnoresItsSpelling()
    {
        const string compact = """{"app":"a","address":"127.0.0.1:5000","release":3}""";
        const string spaced = """{ "address": "127.0.0.1:5000", "app": "a", "release": 3 }""";
        Assert.True(InstanceEndpoint.TryParse("a-web-1", compact, out var first));
        Assert.True(InstanceEndpoint.TryParse("a-web-1", spaced, out var second));

        Assert.Equal(compact, first.Source);
        Assert.Equal(first, second);
        Assert.Equal(first.GetHashCode(), second.GetHashCode());
        Assert.NotEqual(first, second with { Release = 4 });
    }
}
