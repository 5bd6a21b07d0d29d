using System.Text;
using Paas.Router.Forwarding.Http1;

namespace Paas.Router.Tests.Forwarding.Http1;

public class ResponseHeadTests
{
    private static (ResponseHead.Result Result, int Length) Parse(ResponseHead head, string text)
    {
        var result = head.TryParse(Encoding.Latin1.GetBytes(text), out var length);
        return (result, length);
    }

    [Fact]
    public void ReadsStatusFramingAndEndToEndHeadersAndDropsHopByHopOnes()
    {
        var head = new ResponseHead();
        var text = "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n" +
                   "Keep-Alive: timeout=5\r\nX-Empty: \r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nhello";
        var (result, length) = Parse(head, text);

        Assert.Equal(ResponseHead.Result.Complete, result);
        Assert.Equal(text.Length - 5, length);
        Assert.Equal(201, head.StatusCode);
        Assert.Equal(5, head.ContentLength);
        Assert.True(head.KeepAlive);
        Assert.False(head.Chunked);
        Assert.Equal(
            ["Content-Type=text/plain", "X-Empty=", "Set-Cookie=a=1", "Set-Cookie=b=2"],
            head.Headers.Select(h => h.Key + "=" + h.Value));
    }

    [Fact]
    public void HeaderStringsAreReusedWhileTheBytesAreTheSameAndRenewedWhenTheyChange()
    {
        var head = new ResponseHead();
        Parse(head, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Sat, 28 Nov 2026 01:00:00 GMT\r\n\r\n");
        var first = head.Headers.ToArray();
        Parse(head, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Sat, 28 Nov 2026 01:00:01 GMT\r\n\r\n");
        var second = head.Headers.ToArray();

        Assert.Same(first[0].Value, second[0].Value);
        Assert.Same(first[1].Key, second[1].Key);
        Assert.Equal("Sat, 28 Nov 2026 01:00:01 GMT", second[1].Value);
    }

    [Fact]
    public void IncompleteUntilTheBlankLineArrives()
    {
        var head = new ResponseHead();
        Assert.Equal(ResponseHead.Result.Incomplete, Parse(head, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n").Result);
        Assert.Equal(ResponseHead.Result.Incomplete, Parse(head, "HTTP/1.1 2").Result);
    }

    [Theory]
    [InlineData("HTTP/1.0 200 OK\r\n\r\n", false)]
    [InlineData("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", true)]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", false)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", false)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", true)]
    public void KeepAliveFollowsVersionConnectionAndFraming(string text, bool keepAlive)
    {
        var head = new ResponseHead();
        Assert.Equal(ResponseHead.Result.Complete, Parse(head, text).Result);
        Assert.Equal(keepAlive, head.KeepAlive);
    }

    [Theory]
    [InlineData("HTTP/2 200 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 2000 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 20 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nBad Name : x\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nno colon\r\n\r\n")]
    public void MalformedOrAmbiguousHeadsAreRefused(string text)
    {
        Assert.Equal(ResponseHead.Result.Invalid, Parse(new ResponseHead(), text).Result);
    }

    [Fact]
    public void AHeadLargerThanTheLimitIsRefusedRatherThanBufferedForever()
    {
        var text = "HTTP/1.1 200 OK\r\nX-Big: " + new string('x', ResponseHead.MaxHeadBytes) + "\r\n\r\n";
        Assert.Equal(ResponseHead.Result.Invalid, Parse(new ResponseHead(), text).Result);
    }
}
