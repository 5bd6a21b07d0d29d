using Paas.Core.Domains;

namespace Paas.Core.Tests.Domains;

public sealed class DomainNameTests
{
    private const string Platform = "paas.example.net";

    [Theory]
    [InlineData("www.example.com")]
    [InlineData("example.com")]
    [InlineData("*.example.com")]
    [InlineData("a-b.c1.example.co.uk")]
    [InlineData("xn--bcher-kva.example")]
    public void Validate_DnsName_IsAccepted(string hostname) => Assert.Null(DomainName.Validate(hostname, Platform));

    [Theory]
    [InlineData("", "required")]
    [InlineData("localhost", "at least two labels")]
    [InlineData("www..example.com", "empty label")]
    [InlineData(".example.com", "empty label")]
    [InlineData("www.*.example.com", "only as its whole first label")]
    [InlineData("w*.example.com", "only as its whole first label")]
    [InlineData("*.com", "at least two labels")]
    [InlineData("-www.example.com", "inner hyphens")]
    [InlineData("www-.example.com", "inner hyphens")]
    [InlineData("my_app.example.com", "inner hyphens")]
    [InlineData("ex ample.com", "inner hyphens")]
    [InlineData("10.0.0.1", "IP address")]
    [InlineData("hello.paas.example.net", "platform app host")]
    [InlineData("*.paas.example.net", "take over every app")]
    [InlineData("*.localhost", "take over every app", "localhost")]
    [InlineData("web.localhost", "platform app host", "localhost")]
    [InlineData("deep.app.paas.example.net", "under the platform's own domain")]
    [InlineData("*.app.paas.example.net", "under the platform's own domain")]
    [InlineData("x.otherapp.localhost", "under the platform's own domain", "localhost")]
    [InlineData("*.otherapp.localhost", "under the platform's own domain", "localhost")]
    [InlineData("paas.example.net", "under the platform's own domain")]
    public void Validate_BadHostname_SaysWhyInOneSentence(string hostname, string reason, string platform = Platform)
    {
        var message = DomainName.Validate(hostname, platform);

        Assert.NotNull(message);
        Assert.Contains(reason, message);
        Assert.EndsWith(".", message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void Validate_TooLongNameOrLabel_IsRefused()
    {
        Assert.Contains("too long", DomainName.Validate(string.Join('.', Enumerable.Repeat("abcdefghi", 26)) + ".com", Platform));
        Assert.Contains("longer than 63", DomainName.Validate(new string('a', 64) + ".example.com", Platform));
        Assert.Null(DomainName.Validate(new string('a', 63) + ".example.com", Platform));
    }

    [Theory]
    [InlineData("WWW.Example.COM", "www.example.com")]
    [InlineData(" www.example.com. ", "www.example.com")]
    [InlineData(null, "")]
    public void Normalize_LowercasesAndDropsTheFinalDot(string? input, string expected) => Assert.Equal(expected, DomainName.Normalize(input));

    [Theory]
    [InlineData("www.example.com", "www.example.com", true)]
    [InlineData("*.example.com", "www.example.com", true)]
    [InlineData("example.com", "www.example.com", true)]
    [InlineData("api.www.example.com", "www.example.com", true)]
    [InlineData("*.www.example.com", "www.example.com", true)]
    [InlineData("*.example.com", "*.example.com", true)]
    [InlineData("shop.example.com", "www.example.com", false)]
    [InlineData("www.example.org", "www.example.com", false)]
    [InlineData("wwwexample.com", "example.com", false)]
    public void Overlaps_NamesThatOneAppCouldTakeFromAnother(string a, string b, bool overlaps)
    {
        Assert.Equal(overlaps, DomainName.Overlaps(a, b));
        Assert.Equal(overlaps, DomainName.Overlaps(b, a));
    }
}
