using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Paas.Router.Forwarding;

namespace Paas.Router.Tests.Forwarding;

public class ForwardedHeaderValuesTests
{
    [Fact]
    public void For_starts_a_chain_with_the_peer()
    {
        Assert.Equal("10.0.0.5", ForwardedHeaderValues.AppendFor(StringValues.Empty, IPAddress.Parse("10.0.0.5")));
    }

    [Fact]
    public void For_appends_to_what_the_client_sent()
    {
        var existing = new StringValues(["1.2.3.4", "5.6.7.8 "]);

        Assert.Equal("1.2.3.4, 5.6.7.8, 10.0.0.5", ForwardedHeaderValues.AppendFor(existing, IPAddress.Parse("10.0.0.5")));
    }

    [Fact]
    public void For_unwraps_ipv4_mapped_peers()
    {
        Assert.Equal("127.0.0.1", ForwardedHeaderValues.AppendFor(StringValues.Empty, IPAddress.Parse("::ffff:127.0.0.1")));
    }

    [Fact]
    public void For_without_a_peer_keeps_the_chain()
    {
        Assert.Equal("1.2.3.4", ForwardedHeaderValues.AppendFor(new StringValues("1.2.3.4"), null));
        Assert.Null(ForwardedHeaderValues.AppendFor(StringValues.Empty, null));
    }

    [Theory]
    [InlineData("hello.localhost:8080", "http", "8080")]
    [InlineData("hello.localhost", "http", "80")]
    [InlineData("hello.localhost", "https", "443")]
    [InlineData("[::1]:9000", "http", "9000")]
    public void Port_is_what_the_client_addressed(string host, string scheme, string expected)
    {
        Assert.Equal(expected, ForwardedHeaderValues.Port(new HostString(host), scheme));
    }
}
