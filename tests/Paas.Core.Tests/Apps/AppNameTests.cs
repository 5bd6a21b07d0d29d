using Paas.Core.Apps;

namespace Paas.Core.Tests.Apps;

public sealed class AppNameTests
{
    [Theory]
    [InlineData("hello")]
    [InlineData("a")]
    [InlineData("my-app-2")]
    [InlineData("abcdefghijabcdefghijabcdefghij")]
    public void Validate_DnsLabel_IsAccepted(string name) => Assert.Null(AppName.Validate(name));

    [Theory]
    [InlineData("", "required")]
    [InlineData("Hello", "must start with a lowercase letter")]
    [InlineData("1app", "must start with a lowercase letter")]
    [InlineData("-app", "must start with a lowercase letter")]
    [InlineData("my_app", "only lowercase letters, digits and hyphens")]
    [InlineData("my.app", "only lowercase letters, digits and hyphens")]
    [InlineData("app-", "must not end with a hyphen")]
    [InlineData("abcdefghijabcdefghijabcdefghijk", "too long")]
    [InlineData("../etc", "must start with a lowercase letter")]
    [InlineData("hello\n", "only lowercase letters, digits and hyphens")]
    public void Validate_BadName_SaysWhyInOneSentence(string name, string reason)
    {
        var message = AppName.Validate(name);

        Assert.NotNull(message);
        Assert.Contains(reason, message);
        Assert.EndsWith(".", message);
    }
}
