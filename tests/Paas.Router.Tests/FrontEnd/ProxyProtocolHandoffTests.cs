using System.Net;
using Paas.Router.FrontEnd;

namespace Paas.Router.Tests.FrontEnd;

public sealed class ProxyProtocolHandoffTests
{
    [Fact]
    public void A_tcp4_line_names_the_client_and_the_address_it_reached()
    {
        Assert.True(ProxyProtocolHandoff.TryParse("PROXY TCP4 192.0.2.7 127.0.0.1 51234 8080\r", out var remote, out var local));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 51234), remote);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8080), local);
    }

    [Fact]
    public void A_tcp6_line_is_read_too()
    {
        Assert.True(ProxyProtocolHandoff.TryParse("PROXY TCP6 2001:db8::1 :: 40000 80", out var remote, out _));
        Assert.Equal(IPAddress.Parse("2001:db8::1"), remote!.Address);
    }

    [Fact]
    public void Unknown_leaves_the_endpoints_alone()
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
    public void Anything_malformed_is_refused(string line) => Assert.False(ProxyProtocolHandoff.TryParse(line, out _, out _));
}
