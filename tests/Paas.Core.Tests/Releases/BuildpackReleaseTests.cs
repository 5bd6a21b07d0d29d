using Paas.Core.Releases;

namespace Paas.Core.Tests.Releases;

public sealed class BuildpackReleaseTests
{
    [Fact]
    public void Parse_DefaultProcessTypes_AreRead()
    {
        var release = BuildpackRelease.Parse("---\naddons: []\ndefault_process_types:\n  web: npm start\n  worker: node w.js\n");

        Assert.Equal("npm start", release.DefaultProcessTypes["web"]);
        Assert.Equal("node w.js", release.DefaultProcessTypes["worker"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("---\n")]
    [InlineData("---\ndefault_process_types: {}\n")]
    [InlineData("---\ndefault_process_types:\n")]
    public void Parse_NothingDeclared_IsEmpty(string yaml) => Assert.Empty(BuildpackRelease.Parse(yaml).DefaultProcessTypes);

    [Theory]
    [InlineData("default_process_types: [a, b]", "must be a mapping")]
    [InlineData("- just\n- a list", "must print a YAML mapping")]
    [InlineData("default_process_types:\n  web: [x]", "must map names to strings")]
    [InlineData("default_process_types: {web: \"unterminated", "does not parse")]
    public void Parse_BadYaml_SaysWhy(string yaml, string reason)
    {
        var error = Assert.Throws<FormatException>(() => BuildpackRelease.Parse(yaml));

        Assert.Contains(reason, error.Message);
    }
}
