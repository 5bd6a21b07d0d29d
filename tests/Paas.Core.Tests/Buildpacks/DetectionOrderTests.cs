using System.Diagnostics;

namespace Paas.Core.Tests.Buildpacks;

/// <summary>
/// The built-in buildpacks' bin/detect scripts, run for real (bash on this host) in the documented order
/// from buildpacks/order, against the fixture apps.
/// </summary>
public sealed class DetectionOrderTests
{
    private static readonly string Root = FindRoot();

    [Fact]
    public void Order_IsDocumented_NodeFirst_ProcfileLast()
    {
        var order = File.ReadAllLines(Path.Combine(Root, "buildpacks", "order")).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();

        Assert.Equal(["nodejs", "python", "static", "procfile"], order);
    }

    [Theory]
    [InlineData("static", "static")]
    [InlineData("node", "nodejs")]
    [InlineData("python", "python")]
    [InlineData("noport", "procfile")]
    [InlineData("undetectable", null)]
    public void FirstDetectingBuildpack_IsTheExpectedOne(string fixture, string? expected) =>
        Assert.Equal(expected, FirstDetecting(Path.Combine(Root, "tests", "fixtures", "apps", fixture)));

    [Fact]
    public void NodeWinsOverStatic_WhenAnAppHasBoth()
    {
        var dir = Directory.CreateTempSubdirectory("detect-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "index.html"), "<p>hi</p>");
            File.WriteAllText(Path.Combine(dir, "package.json"), "{}");

            Assert.Equal("nodejs", FirstDetecting(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string? FirstDetecting(string buildDir)
    {
        foreach (var name in File.ReadAllLines(Path.Combine(Root, "buildpacks", "order")).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var start = new ProcessStartInfo("bash", [Path.Combine(Root, "buildpacks", name, "bin", "detect"), buildDir]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(start)!;
            process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode == 0)
                return name;
        }
        return null;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Paas.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Could not find the repository root.");
    }
}
