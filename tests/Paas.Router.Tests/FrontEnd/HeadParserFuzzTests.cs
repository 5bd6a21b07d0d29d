using System.Text;
using Paas.Router.Forwarding;
using Paas.Router.Forwarding.Http1;
using Paas.Router.FrontEnd;

namespace Paas.Router.Tests.FrontEnd;

/// <summary>
/// Seeded random mutation over the two head parsers that read bytes from strangers: the event loop's request
/// parser (<see cref="LeanRequest"/>, which clients feed) and <see cref="ResponseHead"/> (which apps feed). No
/// input may throw (a throw on the event loop drops every request on that connection), and what a parser
/// accepts must keep the promises the forwarding relies on. The seeds are fixed, so a failure reproduces; a
/// failing case is printed as an escaped string to become a row of the hostile-request table.
/// It found: a request line "GET HTTP/1.1" (one space, no target) threw ArgumentOutOfRangeException in LeanRequest.
/// </summary>
public sealed class HeadParserFuzzTests
{
    private const int Rounds = 40_000;

    private static readonly string[] RequestSeeds =
    [
        "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n",
        "HEAD /x?y=1 HTTP/1.1\r\nHost: a.example:8080\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        "DELETE /items/1 HTTP/1.1\r\nhost: A.Example\r\nCookie: a=b\r\nX-Request-Id: abc-123\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
        "POST /form HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
    ];

    private static readonly string[] ResponseSeeds =
    [
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
        "HTTP/1.0 204 No Content\r\nConnection: keep-alive\r\n\r\n",
        "HTTP/1.1 302 Found\r\nLocation: /x\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=b\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "HTTP/1.1 500 Internal\nX-Odd: bare-lf\n\n",
    ];

    // Bytes that change meaning in a head: separators, line ends, controls, high bytes.
    private static readonly byte[] Interesting = "\r\n\0 \t:/?#@%;,\"\\\x7f\x80\xff0123456789HTTP/1.1"u8.ToArray();

    [Fact]
    public void RequestHeads_NeverThrow_AndWhatTheLoopAcceptsIsPlainAndWholeLines()
    {
        var random = new Random(20261203);
        for (var round = 0; round < Rounds; round++)
        {
            var input = Mutate(random, RequestSeeds[random.Next(RequestSeeds.Length)]);
            bool accepted;
            LeanRequest request;
            try
            {
                accepted = LeanRequest.TryParse(input, out request);
            }
            catch (Exception e)
            {
                Assert.Fail($"LeanRequest threw {e.GetType().Name} on \"{Escape(input)}\"");
                return;
            }

            if (!accepted)
                continue;
            var headEnd = input.AsSpan().IndexOf("\r\n\r\n"u8);
            Assert.True(headEnd > 0, $"accepted a head without an end: \"{Escape(input)}\"");
            var head = input.AsSpan(0, headEnd + 2);
            // Every line ends in CRLF: no bare CR or LF, no NUL or other control byte anywhere in the head.
            for (var i = 0; i < head.Length; i++)
            {
                var b = head[i];
                var lineEnd = (b == '\r' && i + 1 < head.Length && head[i + 1] == '\n') || (b == '\n' && i > 0 && head[i - 1] == '\r');
                Assert.True(lineEnd || (b >= 0x20 && b != 0x7f) || b == '\t', $"accepted byte 0x{b:x2} at {i} in \"{Escape(input)}\"");
            }

            var target = input.AsSpan(request.Target);
            Assert.True(target.Length > 0 && target[0] == '/' && RequestRules.IsForwardableTarget(target), $"target of \"{Escape(input)}\"");
            Assert.False(input.AsSpan(request.Host).IsEmpty, $"accepted without a host: \"{Escape(input)}\"");
        }
    }

    [Fact]
    public void ResponseHeads_NeverThrow_AndAreCompleteOnlyOnceWhole()
    {
        var random = new Random(3122026);
        for (var round = 0; round < Rounds / 4; round++)
        {
            var input = Mutate(random, ResponseSeeds[random.Next(ResponseSeeds.Length)]);
            ResponseHead.Result result;
            int length;
            try
            {
                result = new ResponseHead().TryParse(input, out length);
            }
            catch (Exception e)
            {
                Assert.Fail($"ResponseHead threw {e.GetType().Name} on \"{Escape(input)}\"");
                return;
            }

            if (result != ResponseHead.Result.Complete)
                continue;
            var parsed = new ResponseHead();
            Assert.Equal(ResponseHead.Result.Complete, parsed.TryParse(input, out _));
            Assert.InRange(length, 1, input.Length);
            Assert.InRange(parsed.StatusCode, 100, 999);
            // Passed on to clients: no header may carry a line break or a control byte that could split it.
            foreach (var (name, value) in parsed.Headers)
                Assert.True(HeaderSyntax.IsName(Encoding.Latin1.GetBytes(name)) && !value.Any(c => c is '\r' or '\n' or '\0'),
                    $"passed on header {name}: {value} from \"{Escape(input)}\"");
            // Fed in pieces (as the network does), a shorter prefix is never already a complete head.
            var cut = random.Next(1, length);
            Assert.NotEqual(ResponseHead.Result.Complete, new ResponseHead().TryParse(input.AsSpan(0, cut), out _));
        }
    }

    private static byte[] Mutate(Random random, string seed)
    {
        var bytes = new List<byte>(Encoding.Latin1.GetBytes(seed));
        var edits = 1 + random.Next(4);
        for (var e = 0; e < edits && bytes.Count > 0; e++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0: bytes[at] = Interesting[random.Next(Interesting.Length)]; break;
                case 1: bytes.Insert(at, Interesting[random.Next(Interesting.Length)]); break;
                case 2: bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(8))); break;
                case 3: bytes.InsertRange(at, bytes.GetRange(at, Math.Min(bytes.Count - at, 1 + random.Next(16)))); break;
                case 4: bytes[at] = (byte)random.Next(256); break;
                default: bytes.RemoveRange(at, bytes.Count - at); break;
            }
        }

        return bytes.ToArray();
    }

    private static string Escape(byte[] input) =>
        string.Concat(input.Select(b => b switch { (byte)'\r' => "\\r", (byte)'\n' => "\\n", (byte)'"' => "\\\"", (byte)'\\' => "\\\\", < 0x20 or >= 0x7f => $"\\x{b:x2}", _ => ((char)b).ToString() }));
}
