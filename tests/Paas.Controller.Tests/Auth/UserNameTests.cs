using Paas.Controller.Auth;

namespace Paas.Controller.Tests.Auth;

public sealed class UserNameTests
{
    [Theory]
    [InlineData("alice")]
    [InlineData("a")]
    [InlineData("0perator")]
    [InlineData("alice.smith+paas@example.com")]
    [InlineData("ci_bot-2")]
    public void Validate_LoginOrEmail_IsAccepted(string name) => Assert.Null(UserName.Validate(name));

    [Fact]
    public void Validate_SixtyFourCharacters_IsAccepted() => Assert.Null(UserName.Validate(new string('a', 64)));

    [Theory]
    [InlineData(null, "A user name is required.")]
    [InlineData("", "A user name is required.")]
    [InlineData("   ", "A user name is required.")]
    public void Validate_Missing_IsRequired(string? name, string expected) => Assert.Equal(expected, UserName.Validate(name));

    [Fact]
    public void Validate_TooLong_SaysTheLimitAndTheLength()
    {
        var problem = UserName.Validate(new string('a', 65));

        Assert.NotNull(problem);
        Assert.Contains("at most 64 characters", problem);
        Assert.Contains("has 65", problem);
        Assert.EndsWith(".", problem);
    }

    [Theory]
    [InlineData("Alice")]
    [InlineData("alice smith")]
    [InlineData(".alice")]
    [InlineData("-alice")]
    [InlineData("@example.com")]
    [InlineData("alice/bob")]
    [InlineData("alice:secret")]
    [InlineData("alice\n")]
    [InlineData("alice\nbob")]
    [InlineData(" alice")]
    [InlineData("élodie")]
    public void Validate_BadName_SaysWhatIsAllowed(string name)
    {
        var problem = UserName.Validate(name);

        Assert.NotNull(problem);
        Assert.Contains("is not a valid user name: use lower-case letters, digits and . _ @ + -", problem);
        Assert.EndsWith(".", problem);
        Assert.DoesNotContain('\n', problem);
    }
}
