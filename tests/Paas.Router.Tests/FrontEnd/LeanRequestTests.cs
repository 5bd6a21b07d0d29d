using System.Text;
using Paas.Router.FrontEnd;

namespace Paas.Router.Tests.FrontEnd;

/// <summary>
/// Which request heads the event loops forward themselves, and what they send on. Anything ambiguous must
/// go to Kestrel: two parsers reading one request differently is how request smuggling starts.
/// </summary>
public sealed class LeanRequestTests
{
    private static bool Parse(string head, out LeanRequest request) => LeanRequest.TryParse(Encoding.Latin1.GetBytes(head), out request);

    private static string Forwarded(string head, string requestId = "generated-id")
    {
        var bytes = Encoding.Latin1.GetBytes(head);
        Assert.True(LeanRequest.TryParse(bytes, out var request));
        var output = new byte[16];
        var length = request.Write(bytes, "10.1.2.3"u8, Encoding.ASCII.GetBytes(requestId), 1700000000123, ref output);
        return Encoding.Latin1.GetString(output, 0, length);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n")]
    [InlineData("HEAD /x?y=1 HTTP/1.1\r\nHost: a.example:8080\r\nAccept: */*\r\n\r\n")]
    [InlineData("DELETE /items/1 HTTP/1.1\r\nhost: A.Example\r\nCookie: a=b\r\n\r\n")]
    [InlineData("OPTIONS /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n")]
    public void PlainBodilessRequestsAreForwardedByTheLoop(string head) => Assert.True(Parse(head, out _));

    [Theory]
    [InlineData("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n", "a method that carries a body")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", "any Content-Length")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", "a chunked body")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "both framings")]
    [InlineData("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", "an upgrade")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n", "an upgrade token alone")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", "Expect")]
    [InlineData("GET / HTTP/1.0\r\nHost: a\r\n\r\n", "HTTP/1.0 (different keep-alive rules)")]
    [InlineData("GET HTTP/1.1\r\nHost: a\r\n\r\n", "no target at all (found by HeadParserFuzzTests: it threw)")]
    [InlineData("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", "an absolute-form target")]
    [InlineData("GET /caf\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n", "a target with raw non-ASCII bytes")]
    [InlineData("GET / HTTP/1.1\r\n\r\n", "no Host")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "two Hosts")]
    [InlineData("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "a Host with a space")]
    [InlineData("GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n", "a port out of range")]
    [InlineData("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", "an IPv6 literal (left to Kestrel's parser)")]
    [InlineData("GET / HTTP/1.1\nHost: a\r\n\r\n", "a bare LF")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\rX-B: 2\r\n\r\n", "a bare CR")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n folded\r\n\r\n", "an obsolete folded line")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n", "whitespace before the colon")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\u0000\r\n\r\n", "a NUL in a value")]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "an HTTP/2 preface")]
    public void AnythingElseGoesToKestrel(string head, string why) =>
        Assert.False(Parse(head, out _), $"{why} must not be forwarded by the loop");

    [Fact]
    public void TheRouterStampsForwardingHeadersOverTheClientsAndDropsHopByHopOnes()
    {
        var sent = Forwarded(
            "GET /p?q=1 HTTP/1.1\r\nHost: app.example:8080\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n" +
            "X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\nX-Forwarded-Port: 443\r\n" +
            "X-Request-Start: 1\r\nProxy-Authorization: secret\r\nX-Forwarded-For: 2.2.2.2\r\nAccept:  text/html \r\n\r\n");

        Assert.StartsWith("GET /p?q=1 HTTP/1.1\r\nHost: app.example:8080\r\n", sent);
        Assert.EndsWith("\r\n\r\n", sent);
        Assert.Contains("\r\nAccept:  text/html \r\n", sent);
        Assert.Contains("\r\nX-Forwarded-For: 1.1.1.1, 2.2.2.2, 10.1.2.3\r\n", sent);
        Assert.Contains("\r\nX-Forwarded-Proto: http\r\n", sent);
        Assert.Contains("\r\nX-Forwarded-Host: app.example:8080\r\n", sent);
        Assert.Contains("\r\nX-Forwarded-Port: 8080\r\n", sent);
        Assert.Contains("\r\nX-Request-Start: 1700000000123\r\n", sent);
        Assert.Contains("\r\nX-Request-Id: generated-id\r\n", sent);
        foreach (var gone in new[] { "Connection:", "Keep-Alive:", "Proxy-Authorization:", "evil", "https", ": 443", "Start: 1\r" })
        {
            Assert.DoesNotContain(gone, sent);
        }

        Assert.Single(sent.Split("\r\nX-Forwarded-For:"), part => part.Length > 0 && !part.StartsWith("GET"));
    }

    [Fact]
    public void WithoutAPortInHostTheForwardedPortIs80()
    {
        Assert.Contains("\r\nX-Forwarded-Port: 80\r\n", Forwarded("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"));
    }

    [Fact]
    public void ASingleWellFormedRequestIdIsKeptAndAnythingElseReplaced()
    {
        Assert.True(Parse("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: abc-123\r\n\r\n", out var kept));
        Assert.False(kept.RequestId.Equals(default(Range)));

        Assert.True(Parse("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: a b\r\n\r\n", out var malformed));
        Assert.True(malformed.RequestId.Equals(default(Range)));

        Assert.True(Parse("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: a\r\nX-Request-Id: b\r\n\r\n", out var twice));
        Assert.True(twice.RequestId.Equals(default(Range)));

        // The client's id never goes out next to the router's.
        var sent = Forwarded("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: a b\r\n\r\n", "fresh");
        Assert.DoesNotContain("a b", sent);
        Assert.Contains("\r\nX-Request-Id: fresh\r\n", sent);
    }

    [Fact]
    public void ConnectionCloseFromTheClientIsNoticed()
    {
        Assert.True(Parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n", out var request));
        Assert.True(request.CloseAfter);
        Assert.True(Parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", out var open));
        Assert.False(open.CloseAfter);
    }
}
