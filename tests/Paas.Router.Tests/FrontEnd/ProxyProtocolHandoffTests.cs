using System.Net;
using Paas.Router.FrontEnd;

namespace Paas.Router.Tests.FrontEnd;

public sealed class ProxyProtocolHandoffTests
{
    [Fact]
    public void ATcp4LineNamesTheClientAndTheAddressItReached()
    {
        Assert.True(ProxyProtocolHandoff.TryParse("PROXY TCP4 192.0.2.7 127.0.0.1 51234 8080\r", out var remote, out var local));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 51234), remote);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8080), local);
    }

    [Fact]
    public void ATcp6LineIsReadToo()
    {
        Assert.True(ProxyProtocolHandoff.TryParse("PROXY TCP6 2001:db8::1 :: 40000 80", out var remote, out _));
        Assert.Equal(IPAddress.Parse("2001:db8::1"), remote!.Address);
    }

    [Fact]
    public void UnknownLeavesTheEndpointsAlone()
    {
        Assert.True(ProxyProtocolHandoff.TryParse("PROXY UNKNOWN", out var remote, out var local));
        Assert.Null(remote);
        Assert.Null(local);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1")]
    [InlineData("PROXY TCP4 192.0.2.7 127.0.0.1 51234")]
    [InlineData("PROXY TCP4 not-an-address 127.0.0.1 1 2")]
    [InlineData("PROXY TCP4 192.0.2.7 127.0.0.1 70000 80")]
    [InlineData("PROXY UDP4 192.0.2.7 127.0.0.1 1 2")]
    public void AnythingMalformedIsRefused(string line) => Assert.False(ProxyProtocolHandoff.TryParse(line, out _, out _));
}
