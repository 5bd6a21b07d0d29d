using Paas.Controller.Deploys;
using Paas.Controller.Instances;
using Paas.Core.Instances;

namespace Paas.Controller.Tests.Deploys;

public sealed class AppManifestTests
{
    private const int DefaultGrace = 60;

    private static AppManifest Parse(string json) => AppManifest.Parse(json, DefaultGrace);

    [Fact]
    public void Parse_EmptyObject_AppliesNothing()
    {
        var manifest = Parse("{}");

        Assert.Empty(manifest.Env);
        Assert.Empty(manifest.Formation);
        Assert.Empty(manifest.Buildpacks);
        Assert.Null(manifest.Postdeploy);
        Assert.Empty(manifest.HealthChecks);
    }

    [Fact]
    public void Parse_BuildArgs_NameConfigVarsForTheDockerfileBuild()
    {
        Assert.Equal(["NPM_TOKEN", "GREETING"], Parse("""{ "build": { "args": ["NPM_TOKEN", "GREETING"] } }""").BuildArgs);
        Assert.Empty(Parse("{}").BuildArgs);
        var bad = Assert.Throws<DeployException>(() => Parse("""{ "build": { "args": ["not a name"] } }"""));
        Assert.Contains("build.args", bad.Message);
    }

    [Fact]
    public void Parse_EnvShorthandString_IsARequiredDefaultValue()
    {
        var manifest = Parse("""{ "env": { "GREETING": "hello" } }""");

        var variable = Assert.Single(manifest.Env);
        Assert.Equal(new AppManifest.EnvVar("GREETING", "hello", GenerateSecret: false, Required: true), variable);
    }

    [Fact]
    public void Parse_EnvObjects_ReadValueGeneratorAndRequired()
    {
        var manifest = Parse("""
            {
              "env": {
                "WEB_CONCURRENCY": { "description": "workers", "value": "5" },
                "SECRET_KEY": { "generator": "secret" },
                "OPTIONAL_TOKEN": { "required": false },
                "NEEDED": { "description": "must be set by you" },
                "RETRIES": { "value": 3 },
                "VERBOSE": { "value": true }
              }
            }
            """);

        var env = manifest.Env.ToDictionary(e => e.Name);
        Assert.Equal(6, env.Count);
        Assert.Equal(new AppManifest.EnvVar("WEB_CONCURRENCY", "5", false, true), env["WEB_CONCURRENCY"]);
        Assert.Equal(new AppManifest.EnvVar("SECRET_KEY", null, true, true), env["SECRET_KEY"]);
        Assert.Equal(new AppManifest.EnvVar("OPTIONAL_TOKEN", null, false, false), env["OPTIONAL_TOKEN"]);
        Assert.Equal(new AppManifest.EnvVar("NEEDED", null, false, true), env["NEEDED"]);
        Assert.Equal("3", env["RETRIES"].Value);
        Assert.Equal("true", env["VERBOSE"].Value);
    }

    [Fact]
    public void Parse_Formation_ReadsQuantityAndMemory_DefaultingQuantityToOne()
    {
        var manifest = Parse("""
            { "formation": { "web": { "quantity": 2, "memory": 256 }, "worker": { "quantity": 0 }, "clock": {} } }
            """);

        Assert.Equal(new AppManifest.FormationSpec(2, 256), manifest.Formation["web"]);
        Assert.Equal(new AppManifest.FormationSpec(0, null), manifest.Formation["worker"]);
        Assert.Equal(new AppManifest.FormationSpec(1, null), manifest.Formation["clock"]);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(101)]
    public void Parse_FormationQuantityOutOfRange_IsRefused(int quantity)
    {
        var error = Assert.Throws<DeployException>(() => Parse($$"""{ "formation": { "web": { "quantity": {{quantity}} } } }"""));

        AssertOneSentenceAboutAppJson(error, "quantity must be between 0 and 100");
    }

    [Fact]
    public void Parse_FormationEntryNotAnObject_IsRefused()
    {
        var error = Assert.Throws<DeployException>(() => Parse("""{ "formation": { "web": 2 } }"""));

        AssertOneSentenceAboutAppJson(error, "formation 'web' must be an object");
    }

    [Fact]
    public void Parse_Buildpacks_KeepsUrlsInOrder()
    {
        var manifest = Parse("""
            { "buildpacks": [ { "url": "https://example.com/first.git" }, { "url": "nodejs" } ] }
            """);

        Assert.Equal(["https://example.com/first.git", "nodejs"], manifest.Buildpacks);
    }

    [Theory]
    [InlineData("""{ "buildpacks": [ {} ] }""")]
    [InlineData("""{ "buildpacks": [ { "url": "" } ] }""")]
    [InlineData("""{ "buildpacks": [ "nodejs" ] }""")]
    [InlineData("""{ "buildpacks": [ 42 ] }""")]
    public void Parse_BuildpackEntryWithoutUrl_IsRefused(string json)
    {
        var error = Assert.Throws<DeployException>(() => Parse(json));

        AssertOneSentenceAboutAppJson(error, "\"url\"");
    }

    [Theory]
    [InlineData("""{ "scripts": { "postdeploy": "python manage.py migrate" } }""")]
    [InlineData("""{ "scripts": { "postdeploy": { "command": "python manage.py migrate", "size": "basic" } } }""")]
    public void Parse_Postdeploy_AsStringOrObject(string json)
    {
        Assert.Equal("python manage.py migrate", Parse(json).Postdeploy);
    }

    [Fact]
    public void Parse_DokkuHealthchecks_UseTheCheckWithAPath_AndDeriveGraceFromAttempts()
    {
        var manifest = Parse("""
            {
              "healthchecks": {
                "web": [
                  { "type": "startup", "name": "port open", "attempts": 2 },
                  { "type": "startup", "name": "ready", "path": "/healthz", "timeout": 3, "wait": 1, "attempts": 4, "initialDelay": 5 }
                ]
              }
            }
            """);

        var check = manifest.HealthChecks["web"];
        Assert.Equal(HealthCheckSpec.Http, check.Type);
        Assert.Equal("/healthz", check.Path);
        Assert.Equal(3, check.TimeoutSeconds);
        Assert.Equal(1, check.IntervalSeconds);
        Assert.Equal(5 + 4 * (3 + 1), check.GraceSeconds);
    }

    [Fact]
    public void Parse_HealthcheckWithoutPathOrAttempts_IsAPortCheckWithDefaultGrace()
    {
        var manifest = Parse("""{ "healthchecks": { "worker": { "timeout": 10 } } }""");

        var check = manifest.HealthChecks["worker"];
        Assert.Equal(HealthCheckSpec.Port, check.Type);
        Assert.Null(check.Path);
        Assert.Equal(10, check.TimeoutSeconds);
        Assert.Equal(2, check.IntervalSeconds);
        Assert.Equal(DefaultGrace, check.GraceSeconds);
    }

    [Fact]
    public void Parse_CommentsAndTrailingCommas_AreAccepted()
    {
        var manifest = Parse("""
            {
              // Heroku's review apps read this too
              "env": { "A": "1", },
              /* scale */
              "formation": { "web": { "quantity": 3, }, },
            }
            """);

        Assert.Equal("A", Assert.Single(manifest.Env).Name);
        Assert.Equal(3, manifest.Formation["web"].Quantity);
    }

    [Fact]
    public void Parse_InvalidJson_SaysSoWithTheLine()
    {
        var error = Assert.Throws<DeployException>(() => Parse("{\n  \"env\": {\n    \"A\": \"1\"\n  \n"));

        AssertOneSentenceAboutAppJson(error, "not valid JSON (line ");
        Assert.Matches(@"\(line \d+\)", error.Message);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"app\"")]
    [InlineData("42")]
    [InlineData("null")]
    public void Parse_NotAnObject_IsRefused(string json)
    {
        var error = Assert.Throws<DeployException>(() => Parse(json));

        AssertOneSentenceAboutAppJson(error, "must hold a JSON object");
    }

    [Theory]
    [InlineData("1ABC")]
    [InlineData("MY-VAR")]
    [InlineData("MY VAR")]
    [InlineData("")]
    [InlineData("A=B")]
    public void Parse_BadEnvName_IsRefused(string name)
    {
        var json = $$"""{ "env": { "{{name}}": "x" } }""";

        var error = Assert.Throws<DeployException>(() => Parse(json));

        AssertOneSentenceAboutAppJson(error, "not a valid environment variable name");
    }

    [Fact]
    public void Parse_EnvNameWithANewline_IsRefusedOnOneLine()
    {
        var error = Assert.Throws<DeployException>(() => Parse("""{ "env": { "A\nB": "x" } }"""));

        AssertOneSentenceAboutAppJson(error, "env name 'A?B' is not a valid environment variable name");
    }

    [Fact]
    public void Parse_UnknownGenerator_IsRefused()
    {
        var error = Assert.Throws<DeployException>(() => Parse("""{ "env": { "TOKEN": { "generator": "uuid" } } }"""));

        AssertOneSentenceAboutAppJson(error, "only 'secret' is supported");
    }

    [Theory]
    [InlineData("""{ "env": { "A": 5 } }""", "must be a string or an object")]
    [InlineData("""{ "env": [ "A" ] }""", "'env' must be an object")]
    [InlineData("""{ "buildpacks": { "url": "nodejs" } }""", "'buildpacks' must be an array")]
    [InlineData("""{ "formation": "web=2" }""", "'formation' must be an object")]
    public void Parse_WrongShape_IsRefused(string json, string reason)
    {
        var error = Assert.Throws<DeployException>(() => Parse(json));

        AssertOneSentenceAboutAppJson(error, reason);
    }

    [Theory]
    [InlineData("""{ "healthchecks": { "web": [ { "path": "healthz" } ] } }""", "path must start with /")]
    [InlineData("""{ "healthchecks": { "web": [] } }""", "must be an object or a list of objects")]
    [InlineData("""{ "healthchecks": { "web": "/healthz" } }""", "must be an object or a list of objects")]
    public void Parse_BadHealthcheck_IsRefused(string json, string reason)
    {
        var error = Assert.Throws<DeployException>(() => Parse(json));

        AssertOneSentenceAboutAppJson(error, reason);
    }

    private static void AssertOneSentenceAboutAppJson(DeployException error, string reason)
    {
        Assert.StartsWith("app.json ", error.Message);
        Assert.Contains(reason, error.Message);
        Assert.EndsWith(".", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
