using System.Diagnostics;
using Docker.DotNet.Models;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// Staging, the release phase and one-offs on a host's cell (PAAS_STAGING_CELL pinned to h2, whose engine is not the
/// controller's): the build streams back, the image is built by h2's engine and pulled by digest elsewhere, `paas run`
/// runs there; and a staging cell that dies mid-build fails the push naming it while the previous release serves on.
/// </summary>
public sealed partial class MultiHostTests
{
    private const string Stager = "h2";

    /// <summary>The controller again, staging on <paramref name="cell"/> (null: the fixture's own staging cell).</summary>
    private async Task PinStagingAsync(string? cell)
    {
        platform.StopController();
        await platform.StartControllerAsync(cell is null ? null : new Dictionary<string, string> { ["PAAS_STAGING_CELL"] = cell });
        await platform.WaitForCellsAsync(MultiHostPlatform.HostLayout.Count);
    }

    private static bool HasRole(ContainerListResponse container, string role) =>
        container.Labels.TryGetValue("paas.role", out var value) && value == role;

    [Fact]
    public async Task StagingOnAHostsCell_BuildsWithThatHostsEngine_StreamsTheBuild_Serves_AndOneOffsRunThere()
    {
        var clock = Stopwatch.StartNew();
        await platform.LoadStackAsync(Stager);
        log.WriteLine($"stack image onto {Stager}: {clock.Elapsed.TotalSeconds:0.0} s");
        await PinStagingAsync(Stager);
        try
        {
            var name = PlatformFixture.UniqueAppName("staged-remote");
            var workTree = await platform.NewWorkTreeAsync("static");
            // Only a release command: the static buildpack's web process stays.
            await File.WriteAllTextAsync(Path.Combine(workTree, "Procfile"), "release: echo release phase as $DYNO\n");
            await platform.CommitAllAsync(workTree, "a release phase");
            AppUnderTest.Must(await platform.PaasAsync(workTree, "apps:create", name));
            AppUnderTest.Must(await platform.PaasAsync(workTree, "git:remote", name));

            clock.Restart();
            var push = await platform.GitAsync(workTree, "push", "paas", "main");
            log.WriteLine($"push staged on {Stager}: {clock.Elapsed.TotalSeconds:0.0} s");
            log.WriteLine(push.Stderr);
            Assert.True(push.ExitCode == 0, push.ToString());
            // The build's output, from h2, in order, as git shows it.
            var lines = push.Stderr.Split('\n');
            int At(string text) => Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
            Assert.True(At($"remote: -----> Staging on cell {Stager}") >= 0, push.Stderr);
            Assert.True(At("remote: -----> Static HTML app detected") > At($"remote: -----> Staging on cell {Stager}"), push.Stderr);
            // h2 pushed the image, at the address it knows the registry by; the release phase ran on h2 from the image
            // h2 built, without waiting for that push (ReleaseImagePushes).
            Assert.True(At($"remote: -----> Pushing the image to the registry {platform.Registry.Address}") > At("remote: -----> Static HTML app detected"), push.Stderr);
            Assert.True(At("remote:        release phase as release.1") > At("remote: -----> Static HTML app detected"), push.Stderr);

            // Built by h2's engine, not by the main host's.
            var onStager = await platform.ImagesOnAsync(Stager, name);
            Assert.Contains(onStager, i => i.RepoTags?.Contains($"paas/app-{name}:v2") == true);
            using (var main = new Docker.DotNet.DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient())
            {
                var onMain = await main.Images.ListImagesAsync(new ImagesListParameters
                {
                    Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"paas.app={name}"] = true } },
                });
                Assert.Empty(onMain);
            }

            // Served through the router, by whichever host placement chose (any other host pulled the digest h2 pushed).
            var app = new AppUnderTest(platform, name, workTree);
            Assert.Contains("Hello from static v1", await app.GetAsync());

            // `paas run` on h2's engine: its output and its exit code, and its container there while it runs.
            var run = platform.PaasAsync(workTree, "run", "-a", name, "--", "echo one-off as $DYNO; sleep 3; exit 7");
            var seenOnStager = false;
            while (!run.IsCompleted && !seenOnStager)
            {
                seenOnStager = (await platform.ContainersOnAsync(Stager, name)).Any(c => HasRole(c, "run"));
                await Task.Delay(200);
            }
            var ran = await run;
            Assert.True(ran.ExitCode == 7, ran.ToString());
            Assert.Equal("one-off as run.1\n", ran.Stdout);
            Assert.True(seenOnStager, $"no one-off container appeared on {Stager}");
            Assert.Contains($"exited with code 7 (cell {Stager})", AppUnderTest.Must(await app.PaasAsync("events")).Stdout);
            Assert.DoesNotContain(await platform.ContainersOnAsync(Stager, name), c => HasRole(c, "run"));
        }
        finally
        {
            await PinStagingAsync(null);
        }
    }

    [Fact]
    public async Task StagingCellThatDiesMidBuild_FailsThePushNamingTheCell_AndThePreviousReleaseServesOn()
    {
        await platform.LoadStackAsync(Stager);
        await PinStagingAsync(Stager);
        try
        {
            var app = await AppUnderTest.PushedAsync(platform, "stage-dies", "static");
            Assert.Contains("Hello from static v1", await app.GetAsync());
            // v2 builds with a buildpack that hangs, so the build is still running when the cell dies.
            var hang = Path.Combine(platform.DataDirectory, "buildpack-repos", "hang-" + Guid.NewGuid().ToString("N")[..6]);
            foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "tests", "fixtures", "buildpacks", "hang"), "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(hang, Path.GetRelativePath(Path.Combine(RepoPaths.Root, "tests", "fixtures", "buildpacks", "hang"), file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
            AppUnderTest.Must(await platform.GitAsync(hang, "init", "-q", "-b", "main"));
            await platform.CommitAllAsync(hang, "buildpack");
            await File.WriteAllTextAsync(Path.Combine(app.WorkTree, ".buildpacks"), $"file://{hang}\n");
            await File.WriteAllTextAsync(Path.Combine(app.WorkTree, "index.html"), "<h1>Hello from static v2</h1>\n");
            await platform.CommitAllAsync(app.WorkTree, "v2 with a hanging buildpack");

            var push = platform.GitAsync(app.WorkTree, "push", "paas", "main");
            var building = Stopwatch.StartNew();
            while (!(await platform.ContainersOnAsync(Stager, app.Name)).Any(c => HasRole(c, "staging") && c.State == "running"))
            {
                Assert.False(push.IsCompleted, (push.IsCompleted ? push.Result : null)?.ToString());
                Assert.True(building.Elapsed < TimeSpan.FromSeconds(60), $"no staging container started on {Stager}");
                await Task.Delay(200);
            }
            await Task.Delay(1000);
            platform.KillCell(Stager);
            var killed = Stopwatch.StartNew();
            var result = await push;
            log.WriteLine($"push failed {killed.Elapsed.TotalSeconds:0.0} s after the staging cell was killed");
            log.WriteLine(result.Stderr);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Matches($@"remote:  !     Push rejected: Cell {Stager} at http://{System.Text.RegularExpressions.Regex.Escape(platform.Host(Stager).Address)}:\d+ went away while staging: its answer ended before the outcome\.", result.Stderr);
            Assert.Contains("The previous release, if any, is still serving.", result.Stderr);
            Assert.True(killed.Elapsed < TimeSpan.FromSeconds(10), $"the push took {killed.Elapsed.TotalSeconds:0.0} s to fail");
            for (var i = 0; i < 3; i++)
                Assert.Contains("Hello from static v1", await app.GetAsync());
        }
        finally
        {
            platform.KillCell(Stager);
            await platform.StartCellAsync(Stager);
            await PinStagingAsync(null);
        }
        // The restarted agent removed the build its predecessor left running.
        Assert.DoesNotContain((await platform.Host(Stager).DockerClient.Containers.ListContainersAsync(new ContainersListParameters { All = true }))
            .Where(c => c.Labels.TryGetValue("paas.platform", out var p) && p == platform.PlatformId), c => HasRole(c, "staging"));
    }
}
