using Microsoft.Extensions.Primitives;
using Paas.Router.Forwarding;

namespace Paas.Router.Tests.Forwarding;

public class RequestIdTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("abc-DEF.no")]
    [InlineData("3f2c1e9a-7b7e-4c55-9a55-1234567890ab")]
    [InlineData("trace.span:01-ok")]
    [InlineData("under_score")]
    public void AcceptsPlainIds(string id)
    {
        Assert.True(RequestId.IsValid(id));
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("has space")]
    [InlineData("new\nline")]
    [InlineData("semi;colon")]
    [InlineData("ünicode")]
    public void RefusesAnythingElse(string? id)
    {
        Assert.False(RequestId.IsValid(id));
    }

    [Fact]
    public void LengthLimitIs200()
    {
        Assert.True(RequestId.IsValid(new string('a', 200)));
        Assert.False(RequestId.IsValid(new string('a', 201)));
    }

    [Fact]
    public void ResolveKeepsAValidIdAndReplacesTheRest()
    {
        Assert.Equal("keep-me", RequestId.Resolve(new StringValues("keep-me")));

        var fresh = RequestId.Resolve(new StringValues("bad id"));
        Assert.True(RequestId.IsValid(fresh));
        Assert.NotEqual("bad id", fresh);

        Assert.True(RequestId.IsValid(RequestId.Resolve(StringValues.Empty)));
        // Two headers would reach the app as "a, b": not an id anyone can search for.
        Assert.NotEqual("a", RequestId.Resolve(new StringValues(["a", "b"])));
    }

    [Fact]
    public void GeneratedIdsAreUniqueAndValid()
    {
        var ids = Enumerable.Range(0, 100).Select(_ => RequestId.New()).ToHashSet();

        Assert.Equal(100, ids.Count);
        Assert.All(ids, id => Assert.True(RequestId.IsValid(id)));
    }
}
