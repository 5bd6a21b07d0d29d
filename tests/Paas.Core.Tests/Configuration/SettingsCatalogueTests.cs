using System.Text.RegularExpressions;
using Paas.Core.Configuration;

namespace Paas.Core.Tests.Configuration;

/// <summary>
/// One list of settings, and nothing read that is not on it: README's table is that list, and every
/// variable the controller, cell agent, router or CLI reads is in it.
/// </summary>
public sealed class SettingsCatalogueTests
{
    // Set by the controller for git's hook process: the hook's contract, not settings anyone configures.
    private static readonly HashSet<string> HookContract = ["PAAS_HOOK_URL", "PAAS_HOOK_SECRET", "PAAS_APP", "PAAS_REPLICATE_URL"];

    [Fact]
    public void EveryVariableTheCodeReadsIsInTheCatalogue()
    {
        var root = RepositoryRoot();
        var read = Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "router"), "*.cs", SearchOption.AllDirectories))
            .Where(path => !path.Contains("/obj/") && !path.Contains("/bin/"))
            .SelectMany(path => Regex.Matches(File.ReadAllText(path), "\"((?:PAAS_[A-Z0-9_]+)|DOCKER_HOST)\"").Select(m => (Name: m.Groups[1].Value, File: Path.GetRelativePath(root, path))))
            .Where(found => !HookContract.Contains(found.Name))
            .ToList();
        var documented = SettingsCatalogue.All.Select(s => s.Name).ToHashSet();

        Assert.NotEmpty(read);
        var missing = read.Where(found => !documented.Contains(found.Name)).Select(found => $"{found.Name} ({found.File})").Distinct().ToList();
        Assert.True(missing.Count == 0, "read but not in SettingsCatalogue (add it, then `make docs`): " + string.Join(", ", missing));
    }

    [Fact]
    public void ReadmeShowsTheCatalogueExactly()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var start = readme.IndexOf(SettingsCatalogue.TableStart, StringComparison.Ordinal);
        var end = readme.IndexOf(SettingsCatalogue.TableEnd, StringComparison.Ordinal);

        Assert.True(start >= 0 && end > start, "README has no generated settings table");
        var shown = readme[(start + SettingsCatalogue.TableStart.Length)..end].Trim('\n');
        Assert.True(shown == SettingsCatalogue.MarkdownTable().Trim('\n'), "README's settings table differs from SettingsCatalogue: run `make docs`");
    }

    [Fact]
    public void EachNameIsListedOnce()
    {
        var names = SettingsCatalogue.All.Select(s => s.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Theory]
    [InlineData("PAAS_API_PORT", "http")]
    [InlineData("PAAS_CONVERGE_SECONDS", "-1")]
    [InlineData("PAAS_DRAIN_MS", "soon")]
    [InlineData("PAAS_APP_MEMORY_MB", "0")]
    [InlineData("PAAS_BUILDPACK_ALLOW_PRIVATE_HOSTS", "maybe")]
    [InlineData("PAAS_API_TLS_PORT", "70000")]
    public void ABadValueStopsStartUpWithOneSentenceNamingTheVariableAndTheValue(string name, string value)
    {
        var error = Assert.Throws<SettingException>(() => PaasSettings.FromEnvironment(n => n == name ? value : null));

        Assert.Matches($"^{name} must be [^.]+, not '{Regex.Escape(value)}'\\.$", error.Message);
    }

    [Fact]
    public void UnsetOrBlankTakesTheDefaultAndAnEmptyPrefixStaysEmpty()
    {
        var blank = PaasSettings.FromEnvironment(n => n == "PAAS_API_PORT" ? "  " : n == "PAAS_REDIS_PREFIX" ? "" : null);

        Assert.Equal(8090, blank.ApiPort);
        Assert.Equal("", blank.RedisPrefix);
        Assert.Equal(TimeSpan.FromMilliseconds(250), PaasSettings.FromEnvironment(n => n == "PAAS_DRAIN_MS" ? "250" : null).DrainTime);
        Assert.Equal(TimeSpan.FromSeconds(1.5), PaasSettings.FromEnvironment(n => n == "PAAS_CELL_LOST_SECONDS" ? "1.5" : null).CellLostAfter);
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Paas.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Paas.sln not found above the test binaries.");
    }
}
