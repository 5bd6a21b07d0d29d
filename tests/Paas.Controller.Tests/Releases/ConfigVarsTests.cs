using Paas.Controller.Releases;

namespace Paas.Controller.Tests.Releases;

public sealed class ConfigVarsTests
{
    private static readonly IReadOnlyDictionary<string, string> NoVars = new Dictionary<string, string>();

    private static Dictionary<string, string?> Changes(params (string Name, string? Value)[] changes) =>
        changes.ToDictionary(c => c.Name, c => c.Value);

    [Theory]
    [InlineData("FOO")]
    [InlineData("_private")]
    [InlineData("database_url")]
    [InlineData("A1_B2")]
    [InlineData("port")]
    public void Validate_GoodName_IsAccepted(string name) =>
        Assert.Null(ConfigVars.Validate(Changes((name, "x")), NoVars));

    [Theory]
    [InlineData("1FOO")]
    [InlineData("MY-VAR")]
    [InlineData("MY VAR")]
    [InlineData("A=B")]
    [InlineData("")]
    [InlineData("FOO\n")]
    [InlineData("FOO\nBAR")]
    [InlineData("ÄPFEL")]
    public void Validate_BadName_IsRefused(string name)
    {
        var problem = ConfigVars.Validate(Changes((name, "x")), NoVars);

        AssertOneSentence(problem, "is not a valid config var name");
    }

    [Fact]
    public void Validate_BadName_IsRefusedForUnsetToo() =>
        AssertOneSentence(ConfigVars.Validate(Changes(("1FOO", null)), NoVars), "is not a valid config var name");

    [Fact]
    public void Validate_VeryLongBadName_IsShortenedInTheMessage()
    {
        var problem = ConfigVars.Validate(Changes(("1" + new string('A', 500), "x")), NoVars);

        Assert.NotNull(problem);
        Assert.True(problem.Length < 200, problem);
    }

    [Theory]
    [InlineData("PORT")]
    [InlineData("DYNO")]
    public void Validate_PlatformVar_CannotBeSetOrUnset(string name)
    {
        AssertOneSentence(ConfigVars.Validate(Changes((name, "8080")), NoVars), $"{name} is set by the platform");
        AssertOneSentence(ConfigVars.Validate(Changes((name, null)), NoVars), $"{name} is set by the platform");
    }

    [Fact]
    public void Validate_ValueAtTheLimit_IsAccepted_AndOneByteMoreIsRefused()
    {
        Assert.Null(ConfigVars.Validate(Changes(("BIG", new string('x', ConfigVars.MaxValueBytes))), NoVars));

        var problem = ConfigVars.Validate(Changes(("BIG", new string('x', ConfigVars.MaxValueBytes + 1))), NoVars);

        AssertOneSentence(problem, "The value of BIG is over 32 KB");
    }

    [Fact]
    public void Validate_ValueSize_CountsUtf8Bytes()
    {
        // 'é' is two bytes in UTF-8: fewer characters than the limit, more bytes.
        var problem = ConfigVars.Validate(Changes(("BIG", new string('é', ConfigVars.MaxValueBytes / 2 + 1))), NoVars);

        AssertOneSentence(problem, "over 32 KB");
    }

    [Fact]
    public void Validate_NulInValue_IsRefused() =>
        AssertOneSentence(ConfigVars.Validate(Changes(("FOO", "a\0b")), NoVars), "contains a NUL character");

    [Fact]
    public void Validate_EmptyValue_IsAccepted() =>
        Assert.Null(ConfigVars.Validate(Changes(("FOO", "")), NoVars));

    [Fact]
    public void Validate_TotalOverTheLimit_CountsWhatTheAppAlreadyHas()
    {
        var current = Enumerable.Range(0, 8).ToDictionary(i => $"V{i}", _ => new string('x', 30 * 1024));

        var problem = ConfigVars.Validate(Changes(("MORE", new string('y', 30 * 1024))), current);

        AssertOneSentence(problem, "over the limit of 256 KB");
    }

    [Fact]
    public void Validate_UnsettingWhileOverTheLimit_IsAllowed_WhenTheResultFits()
    {
        var current = Enumerable.Range(0, 9).ToDictionary(i => $"V{i}", _ => new string('x', 30 * 1024));

        Assert.Null(ConfigVars.Validate(Changes(("V0", null)), current));
    }

    [Fact]
    public void Validate_NoChanges_SaysHowToGiveThem() =>
        AssertOneSentence(ConfigVars.Validate(Changes(), NoVars), "use NAME=value to set, or NAME to unset");

    [Fact]
    public void Apply_SetsOverwritesAndUnsets_WithoutTouchingTheCurrentVars()
    {
        var current = new Dictionary<string, string> { ["KEEP"] = "1", ["CHANGE"] = "old", ["DROP"] = "x" };

        var result = ConfigVars.Apply(current, Changes(("CHANGE", "new"), ("DROP", null), ("ADD", "a"), ("ABSENT", null)));

        Assert.Equal(new Dictionary<string, string> { ["KEEP"] = "1", ["CHANGE"] = "new", ["ADD"] = "a" }, result);
        Assert.Equal("old", current["CHANGE"]);
        Assert.True(current.ContainsKey("DROP"));
    }

    [Fact]
    public void Apply_NamesAreCaseSensitive()
    {
        var result = ConfigVars.Apply(new Dictionary<string, string> { ["foo"] = "lower" }, Changes(("FOO", "upper")));

        Assert.Equal("lower", result["foo"]);
        Assert.Equal("upper", result["FOO"]);
    }

    [Theory]
    [InlineData("Set FOO config var", "FOO=1")]
    [InlineData("Set FOO, BAR config vars", "FOO=1", "BAR=2")]
    [InlineData("Remove FOO config var", "FOO")]
    [InlineData("Remove FOO, BAR config vars", "FOO", "BAR")]
    [InlineData("Set FOO config var; remove BAR config var", "FOO=1", "BAR")]
    [InlineData("Set A, B config vars; remove C, D config vars", "A=1", "C", "B=2", "D")]
    public void Describe_ReadsLikeHerokusReleaseDescriptions(string expected, params string[] arguments)
    {
        var changes = Changes(arguments.Select(a => a.Split('=', 2) is [var n, var v] ? (n, (string?)v) : (a, null)).ToArray());

        Assert.Equal(expected, ConfigVars.Describe(changes));
    }

    private static void AssertOneSentence(string? problem, string reason)
    {
        Assert.NotNull(problem);
        Assert.Contains(reason, problem);
        Assert.EndsWith(".", problem);
        Assert.DoesNotContain('\n', problem);
    }
}
