using System.Text.RegularExpressions;

namespace Paas.Core.Tests.Conventions;

/// <summary>
/// One test-naming style for every test project: PascalCase clauses joined by underscores,
/// <c>Subject_WhatHappens_AndWhatIsKept</c>. Test names are what a failing run prints, so one style reads as
/// one sentence shape everywhere; this scan keeps the next test in it.
/// </summary>
public sealed partial class TestNamingTests
{
    [GeneratedRegex(@"\[(Fact|Theory)[^\]]*\]\s*(\[[^\]]*\]\s*)*public (?:async Task|void) (?<name>\w+)\(", RegexOptions.Multiline)]
    private static partial Regex TestMethod();

    [GeneratedRegex(@"^[A-Z][A-Za-z0-9]*(_[A-Z0-9][A-Za-z0-9]*)*$")]
    private static partial Regex PascalClauses();

    [Fact]
    public void EveryTestName_IsPascalCaseClauses()
    {
        var root = RepositoryRoot();
        var tests = Directory.EnumerateFiles(Path.Combine(root, "tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .SelectMany(f => TestMethod().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetRelativePath(root, f), Name: m.Groups["name"].Value)))
            .ToList();

        Assert.True(tests.Count > 300, $"found only {tests.Count} tests: the scan is broken");
        var offenders = tests.Where(t => !PascalClauses().IsMatch(t.Name)).Select(t => $"{t.File}: {t.Name}").ToList();
        Assert.True(offenders.Count == 0, "Test names must be PascalCase clauses (Subject_WhatHappens):\n" + string.Join("\n", offenders));
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Paas.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Paas.sln not found above the test binaries.");
    }
}
