using Paas.Staging.Buildpacks;

namespace Paas.Core.Tests.Buildpacks;

public sealed class BuildpackReferenceTests
{
    [Theory]
    [InlineData("nodejs", "nodejs")]
    [InlineData("Python", "python")]
    [InlineData("  static  ", "static")]
    [InlineData("my_pack-2.0", "my_pack-2.0")]
    public void Parse_BuiltInName_IsBuiltInWithLowerCaseLocation(string text, string location)
    {
        var buildpack = BuildpackReference.Parse(text, out var problem);

        Assert.Null(problem);
        Assert.NotNull(buildpack);
        Assert.Equal(BuildpackKind.BuiltIn, buildpack.Kind);
        Assert.Equal(location, buildpack.Location);
        Assert.Null(buildpack.Ref);
        Assert.Equal(text.Trim(), buildpack.ToString());
    }

    [Theory]
    [InlineData("https://github.com/heroku/heroku-buildpack-go", "https://github.com/heroku/heroku-buildpack-go", null)]
    [InlineData("https://github.com/heroku/heroku-buildpack-go.git#v200", "https://github.com/heroku/heroku-buildpack-go.git", "v200")]
    [InlineData("http://git.internal:8080/packs/ruby.git#main", "http://git.internal:8080/packs/ruby.git", "main")]
    [InlineData("https://example.com/p.git#feature/new-thing", "https://example.com/p.git", "feature/new-thing")]
    [InlineData("https://example.com/p.git#0123456789abcdef0123456789abcdef01234567", "https://example.com/p.git", "0123456789abcdef0123456789abcdef01234567")]
    [InlineData("file:///srv/buildpacks/custom", "file:///srv/buildpacks/custom", null)]
    [InlineData("file:///srv/buildpacks/custom#release-1.2", "file:///srv/buildpacks/custom", "release-1.2")]
    public void Parse_GitUrl_SplitsLocationAndRef(string text, string location, string? gitRef)
    {
        var buildpack = BuildpackReference.Parse(text, out var problem);

        Assert.Null(problem);
        Assert.NotNull(buildpack);
        Assert.Equal(BuildpackKind.Git, buildpack.Kind);
        Assert.Equal(location, buildpack.Location);
        Assert.Equal(gitRef, buildpack.Ref);
        Assert.Equal(text, buildpack.Text);
    }

    [Theory]
    [InlineData("https://example.com/buildpacks/go.tgz")]
    [InlineData("https://example.com/buildpacks/go.tar.gz")]
    [InlineData("http://example.com/buildpacks/GO.TGZ")]
    [InlineData("https://codeload.example.com/x/go.tar.gz?token=public")]
    public void Parse_TarballUrl_IsTarball(string text)
    {
        var buildpack = BuildpackReference.Parse(text, out var problem);

        Assert.Null(problem);
        Assert.NotNull(buildpack);
        Assert.Equal(BuildpackKind.Tarball, buildpack.Kind);
        Assert.Equal(text, buildpack.Location);
        Assert.Null(buildpack.Ref);
    }

    [Theory]
    [InlineData(null, "empty")]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("nodejs python", "no spaces, commas or control characters")]
    [InlineData("nodejs,python", "no spaces, commas or control characters")]
    [InlineData("https://example.com/p.git\nrm -rf /", "no spaces, commas or control characters")]
    [InlineData("node\tjs", "no spaces, commas or control characters")]
    [InlineData("https://example.com/p.git#-x", "#ref that is not a valid git branch, tag or commit")]
    [InlineData("https://example.com/p.git#--upload-pack=evil", "#ref that is not a valid git branch, tag or commit")]
    [InlineData("https://example.com/p.git#a..b", "#ref that is not a valid git branch, tag or commit")]
    [InlineData("https://example.com/p.git#", "#ref that is not a valid git branch, tag or commit")]
    [InlineData("https://example.com/p.git#a:b", "#ref that is not a valid git branch, tag or commit")]
    [InlineData("https://example.com/p.git#main#dev", "#ref that is not a valid git branch, tag or commit")]
    [InlineData("ssh://git@github.com/heroku/heroku-buildpack-go.git", "use a built-in name or an https, http or file URL")]
    [InlineData("git@github.com:heroku/heroku-buildpack-go.git", "use a built-in name or an https, http or file URL")]
    [InlineData("ftp://example.com/go.tgz", "use a built-in name or an https, http or file URL")]
    [InlineData("git://example.com/p.git", "use a built-in name or an https, http or file URL")]
    [InlineData("heroku/nodejs", "use a built-in name or an https, http or file URL")]
    [InlineData("-nodejs", "use a built-in name or an https, http or file URL")]
    [InlineData("https://example.com/go.tgz#v1", "tarball URL, which cannot take a #ref")]
    [InlineData("https://example.com/go.tar.gz#main", "tarball URL, which cannot take a #ref")]
    public void Parse_NotABuildpack_IsRefusedWithOneSentence(string? text, string reason)
    {
        var buildpack = BuildpackReference.Parse(text, out var problem);

        Assert.Null(buildpack);
        Assert.NotNull(problem);
        Assert.Contains(reason, problem);
        Assert.EndsWith(".", problem);
        Assert.DoesNotContain('\n', problem);
    }

    [Theory]
    [InlineData("https:///path/p.git")]
    [InlineData("http:///go.tgz")]
    public void Parse_UrlWithoutHost_IsRefused(string text)
    {
        var buildpack = BuildpackReference.Parse(text, out var problem);

        Assert.Null(buildpack);
        Assert.NotNull(problem);
        Assert.EndsWith(".", problem);
    }

    [Theory]
    [InlineData("/srv/buildpacks/custom")]
    [InlineData("c:/buildpacks/custom")]
    public void Parse_BarePath_IsNotTakenForAFileUrl(string text)
    {
        var buildpack = BuildpackReference.Parse(text, out var problem);

        Assert.Null(buildpack);
        Assert.Contains("use a built-in name or an https, http or file URL", problem);
    }

    [Theory]
    [InlineData("file:///srv/buildpacks/go.tgz")]
    [InlineData("file:///srv/buildpacks/go.tar.gz")]
    public void Parse_FileTarball_IsRefused_BecauseTarballsAreDownloadedOverHttp(string text)
    {
        var buildpack = BuildpackReference.Parse(text, out var problem);

        Assert.Null(buildpack);
        Assert.NotNull(problem);
        Assert.Contains("http", problem);
        Assert.EndsWith(".", problem);
    }

    [Fact]
    public void Parse_VeryLongText_IsRefused_AndTheMessageQuotesOnlyItsStart()
    {
        var text = "https://example.com/" + new string('a', 2100) + ".git";

        var buildpack = BuildpackReference.Parse(text, out var problem);

        Assert.Null(buildpack);
        Assert.NotNull(problem);
        Assert.True(problem.Length < 200, problem);
        Assert.Contains("...", problem);
    }
}
