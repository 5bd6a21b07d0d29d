using Paas.Core.Releases;

namespace Paas.Core.Tests.Releases;

public sealed class ProcfileTests
{
    [Fact]
    public void Parse_TypesAndCommands_KeepsCommandsWhole()
    {
        var types = Procfile.Parse("web: python3 app.py --port $PORT\r\n# a comment\n\nworker:  node worker.js  \nrelease: ./migrate: now\n");

        Assert.Equal(3, types.Count);
        Assert.Equal("python3 app.py --port $PORT", types["web"]);
        Assert.Equal("node worker.js", types["worker"]);
        Assert.Equal("./migrate: now", types["release"]);
    }

    [Theory]
    [InlineData("just a command", "line 1 is not of the form")]
    [InlineData("web:", "has no command")]
    [InlineData("web: a\nweb: b", "defined twice")]
    [InlineData("we b: x", "may contain only")]
    public void Parse_BadLine_SaysWhichAndWhy(string text, string reason)
    {
        var error = Assert.Throws<FormatException>(() => Procfile.Parse(text));

        Assert.Contains(reason, error.Message);
    }
}
