using Paas.Router.Table;

namespace Paas.Router.Tests.Table;

public class HostNameTests
{
    [Theory]
    [InlineData("hello.localhost", "hello.localhost")]
    [InlineData("Hello.LocalHost", "hello.localhost")]
    [InlineData("hello.localhost:8080", "hello.localhost")]
    [InlineData("HELLO.LOCALHOST:80", "hello.localhost")]
    [InlineData("  hello.localhost  ", "hello.localhost")]
    [InlineData("hello.localhost.", "hello.localhost")]
    [InlineData("hello.localhost.:8080", "hello.localhost")]
    [InlineData("[::1]:8080", "[::1]")]
    [InlineData("[::1]", "[::1]")]
    [InlineData("127.0.0.1:8080", "127.0.0.1")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void NormalizeStripsPortAndCase(string? header, string expected)
    {
        Assert.Equal(expected, HostName.Normalize(header));
    }
}
