using System.Diagnostics;

namespace Paas.Core.Tests.Buildpacks;

/// <summary>
/// Runs the staging driver and the built-in buildpacks on this host (no container) against every fixture
/// app through tests/fixtures/stage-selftest.sh: detection, compile, release, multi-buildpack, cache
/// reuse, exit codes, and that the staged web apps answer on $PORT.
/// </summary>
public sealed class StageDriverTests
{
    [Fact]
    public void StageDriver_SelfTest_PassesEveryCase()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Paas.sln")))
            root = Path.GetDirectoryName(root.TrimEnd('/'))!;
        var start = new ProcessStartInfo("bash", [Path.Combine(root, "tests", "fixtures", "stage-selftest.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
            process.Kill(entireProcessTree: true);

        Assert.True(process.ExitCode == 0, stdout + stderr.Result);
        Assert.DoesNotContain("FAIL:", stdout);
        Assert.Contains("PASS:", stdout);
    }
}
