using Paas.Core.Images;

namespace Paas.Core.Tests.Images;

public sealed class EngineErrorTests
{
    [Fact]
    public void Reason_OfAnApiErrorBody_IsItsMessage()
    {
        const string body = "{\"message\":\"Get \\\"http://10.213.1.1:5000/v2/\\\": dial tcp 10.213.1.1:5000: connect: connection refused\"}\n";
        Assert.Equal("Get \"http://10.213.1.1:5000/v2/\": dial tcp 10.213.1.1:5000: connect: connection refused", EngineError.Reason(body));
    }

    [Theory]
    [InlineData("manifest unknown.\nmore detail", "manifest unknown")]
    [InlineData("  no space left on device  ", "no space left on device")]
    [InlineData("{not json", "{not json")]
    [InlineData("{\"error\":\"no message field\"}", "{\"error\":\"no message field\"}")]
    [InlineData("", "no reason given")]
    [InlineData(null, "no reason given")]
    public void Reason_OfText_IsItsFirstLine_WithoutAClosingPeriod(string? text, string expected) =>
        Assert.Equal(expected, EngineError.Reason(text));
}
