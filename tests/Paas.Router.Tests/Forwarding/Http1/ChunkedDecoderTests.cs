using System.Text;
using Paas.Router.Forwarding.Http1;

namespace Paas.Router.Tests.Forwarding.Http1;

public class ChunkedDecoderTests
{
    /// <summary>Feeds the input in pieces of <paramref name="piece"/> bytes, as a network would, and collects the data.</summary>
    private static (bool Ok, bool Complete, string Data, int Consumed) Decode(string input, int piece)
    {
        var bytes = Encoding.ASCII.GetBytes(input);
        var decoder = new ChunkedDecoder();
        var data = new StringBuilder();
        var position = 0;
        var available = 0;
        while (!decoder.IsComplete && available < bytes.Length)
        {
            available = Math.Min(bytes.Length, available + piece);
            while (position < available && !decoder.IsComplete)
            {
                var window = bytes.AsSpan(position, available - position);
                if (!decoder.Decode(window, out var consumed, out var offset, out var count))
                {
                    return (false, false, data.ToString(), position);
                }

                data.Append(Encoding.ASCII.GetString(window.Slice(offset, count)));
                position += consumed;
                if (consumed == 0)
                {
                    break;
                }
            }
        }

        return (true, decoder.IsComplete, data.ToString(), position);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1000)]
    public void DecodesChunksExtensionsAndTrailersHoweverTheBytesArrive(int piece)
    {
        var body = "5\r\nhello\r\n1;name=value\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n";
        var (ok, complete, data, consumed) = Decode(body + "NEXT", piece);

        Assert.True(ok);
        Assert.True(complete);
        Assert.Equal("hello 0123456789", data);
        Assert.Equal(body.Length, consumed);
    }

    [Fact]
    public void NotCompleteUntilTheLastChunkAndItsBlankLine()
    {
        Assert.False(Decode("5\r\nhello\r\n", 100).Complete);
        Assert.False(Decode("5\r\nhello\r\n0\r\n", 100).Complete);
        Assert.True(Decode("5\r\nhello\r\n0\r\n\r\n", 100).Complete);
    }

    [Theory]
    [InlineData("zz\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5\r\nhelloXX0\r\n\r\n")]
    [InlineData("\r\n")]
    [InlineData("1000000000000000\r\n")]
    public void MalformedFramingIsRefused(string input)
    {
        Assert.False(Decode(input, 100).Ok);
    }
}
