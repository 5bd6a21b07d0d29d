using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Paas.Router.Forwarding;

namespace Paas.Router.Tests.Forwarding;

public class ForwardedHeaderValuesTests
{
    [Fact]
    public void ForStartsAChainWithThePeer()
    {
        Assert.Equal("10.0.0.5", ForwardedHeaderValues.AppendFor(StringValues.Empty, IPAddress.Parse("10.0.0.5")));
    }

    [Fact]
    public void ForAppendsToWhatTheClientSent()
    {
        var existing = new StringValues(["1.2.3.4", "5.6.7.8 "]);

        Assert.Equal("1.2.3.4, 5.6.7.8, 10.0.0.5", ForwardedHeaderValues.AppendFor(existing, IPAddress.Parse("10.0.0.5")));
    }

    [Fact]
    public void ForUnwrapsIpv4MappedPeers()
    {
        Assert.Equal("127.0.0.1", ForwardedHeaderValues.AppendFor(StringValues.Empty, IPAddress.Parse("::ffff:127.0.0.1")));
    }

    [Fact]
    public void ForWithoutAPeerKeepsTheChain()
    {
        Assert.Equal("1.2.3.4", ForwardedHeaderValues.AppendFor(new StringValues("1.2.3.4"), null));
        Assert.Null(ForwardedHeaderValues.AppendFor(StringValues.Empty, null));
    }

    [Theory]
    [InlineData("hello.localhost:8080", "http", "8080")]
    [InlineData("hello.localhost", "http", "80")]
    [InlineData("hello.localhost", "https", "443")]
    [InlineData("[::1]:9000", "http", "9000")]
    public void PortIsWhatTheClientAddressed(string host, string scheme, string expected)
    {
        Assert.Equal(expected, ForwardedHeaderValues.Port(new HostString(host), scheme));
    }
}
