using System.Text.RegularExpressions;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// Long commands show the instances as the platform reports them, on the real path (git push, Docker, Redis, the
/// router): scaling, a config change's rolling restart, and a release that cannot become healthy.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ProgressTests(PlatformFixture platform, Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>`paas` with stderr and stdout in one stream, in the order the user sees them on a terminal.</summary>
    private Task<ProcessResult> PaasMergedAsync(AppUnderTest app, params string[] args) =>
        ProcessRunner.RunAsync("sh", ["-c", "exec \"$@\" 2>&1", "paas", "dotnet", RepoPaths.Dll("src/Paas.Cli", "paas"), .. args, "-a", app.Name],
            app.WorkTree, platform.ClientEnvironment(), TimeSpan.FromMinutes(2));

    [Fact]
    public async Task ScaleAndConfigSet_ShowEachInstanceTurningHealthy_BeforeTheSummary_AndABrokenReleaseFailsWithItsReason()
    {
        var app = await AppUnderTest.PushedAsync(platform, "progress", "python");

        var scale = await PaasMergedAsync(app, "ps:scale", "web=3");

        output.WriteLine(scale.Stdout);
        Assert.True(scale.ExitCode == 0, scale.ToString());
        var lines = scale.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        var summary = lines.FindIndex(l => Regex.IsMatch(l, @"^Scaled web to 3: 3 of 3 healthy in \d+\.\d s$"));
        Assert.True(summary >= 0, scale.ToString());
        foreach (var instance in new[] { "web.2", "web.3" })
        {
            var starting = lines.FindIndex(l => Regex.IsMatch(l, $@"^  {Regex.Escape(instance)} starting on \S+ \(v\d+\)$"));
            var healthy = lines.FindIndex(l => Regex.IsMatch(l, $@"^  {Regex.Escape(instance)} healthy \(\d+\.\d s\)$"));
            Assert.True(starting >= 0 && starting < healthy && healthy < summary, $"{instance}:\n{scale}");
        }
        Assert.DoesNotContain(lines, l => l.StartsWith("  web.1 ", StringComparison.Ordinal));

        // A config change is a new release rolled out one instance at a time: each new one healthy, each old one stopped.
        var set = await PaasMergedAsync(app, "config:set", "GREETING=progress");

        output.WriteLine(set.Stdout);
        Assert.True(set.ExitCode == 0, set.ToString());
        var release = int.Parse(Regex.Match(set.Stdout, @"done, v(\d+): 3 of 3 healthy in \d+\.\d s").Groups[1].Value);
        foreach (var instance in new[] { "web.1", "web.2", "web.3" })
        {
            Assert.Matches($@"  {Regex.Escape(instance)} starting on \S+ \(v{release}\)\n", set.Stdout);
            Assert.Matches($@"  {Regex.Escape(instance)} healthy \(\d+\.\d s\)\n", set.Stdout);
            Assert.Contains($"  {instance} stopped (old release v{release - 1})\n", set.Stdout);
        }

        // PYTHONHOME pointing nowhere: python cannot start, so v(release+1) never becomes healthy and nothing changes.
        var broken = await app.PaasAsync("config:set", "PYTHONHOME=/nonexistent");

        output.WriteLine(broken.ToString());
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("never became healthy", broken.Stderr);
        Assert.Contains($"v{release + 1} (Set PYTHONHOME config var) did not come up, so nothing changed", broken.Stderr);
        Assert.DoesNotContain("done", broken.Stdout);
        Assert.StartsWith("200 Hello from python", await app.GetAsync());
        Assert.All((await app.InstancesAsync()).Where(i => i.GetProperty("state").GetString() == "running"),
            i => Assert.Equal(release, i.GetProperty("release").GetInt32()));
    }
}
