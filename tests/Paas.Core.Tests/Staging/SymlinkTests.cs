using Paas.Staging.Source;

namespace Paas.Core.Tests.Staging;

public sealed class SymlinkTests
{
    [Theory]
    [InlineData("link", "target")]
    [InlineData("a/b/link", "../c")]
    [InlineData("a/b/link", "../../c")]
    [InlineData("a/link", "./x/../y")]
    public void Inside_TheTree_IsAllowed(string link, string target) => Assert.True(PushedSource.SymlinkStaysInside(link, target));

    [Theory]
    [InlineData("link", "/etc/passwd")]
    [InlineData("link", "..")]
    [InlineData("a/b/link", "../../../x")]
    [InlineData("a/link", "x/../../..")]
    [InlineData("link", "")]
    public void Outside_TheTree_IsRefused(string link, string target) => Assert.False(PushedSource.SymlinkStaysInside(link, target));
}
