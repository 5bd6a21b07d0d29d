using Paas.Cli.Commands;

namespace Paas.Cli.Tests.Commands;

public sealed class ConfigCommandsTests
{
    [Fact]
    public async Task ConfigEdit_SavedUnchanged_SaysNoChanges_AndSendsNoChange()
    {
        await using var api = new FakeApi(200, """{"GREETING": "hi", "KEY": "line1\nline2"}""");

        var edit = await CliProcess.RunAgainstAsync(api.Url, null, new Dictionary<string, string> { ["EDITOR"] = "true" }, "config:edit", "-a", "hello");

        Assert.True(edit.ExitCode == 0, edit.Stderr);
        Assert.Contains("No changes to hello's config", edit.Stdout);
        Assert.Equal(["GET /v1/apps/hello/config"], api.Requests);
    }

    [Fact]
    public async Task ConfigEdit_EditorFails_ChangesNothing()
    {
        await using var api = new FakeApi(200, """{"GREETING": "hi"}""");

        var edit = await CliProcess.RunAgainstAsync(api.Url, null, new Dictionary<string, string> { ["EDITOR"] = "false" }, "config:edit", "-a", "hello");

        Assert.NotEqual(0, edit.ExitCode);
        Assert.Contains("exited with code 1", edit.Stderr);
        Assert.Equal(["GET /v1/apps/hello/config"], api.Requests);
    }

    [Fact]
    public void ParseEdited_SkipsCommentsAndBlanks_AndDecodesQuotedValues()
    {
        var vars = ConfigCommands.ParseEdited(["# a comment", "", "A=1=2", "PEM=\"line1\\nline2\"", "EMPTY="]);

        Assert.Equal(new Dictionary<string, string> { ["A"] = "1=2", ["PEM"] = "line1\nline2", ["EMPTY"] = "" }, vars);
    }

    [Fact]
    public void ParseEdited_ALineWithoutName_IsOneSentence()
    {
        var e = Assert.Throws<CliException>(() => ConfigCommands.ParseEdited(["A=1", "no equals sign"]));

        Assert.Contains("Line 2 is not NAME=VALUE", e.Message);
    }
}
