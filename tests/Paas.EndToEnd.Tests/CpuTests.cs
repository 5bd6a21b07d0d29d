using System.Diagnostics;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Paas.EndToEnd.Tests;

/// <summary>CPU shares follow a process's size, on the real engine; whether a busy loop starves a neighbour.</summary>
[Collection(PlatformCollection.Name)]
public sealed class CpuTests(PlatformFixture platform, ITestOutputHelper output)
{
    private const int Samples = 15;

    [Fact]
    public async Task ContainerCpuShares_FollowMemory_AndAreWhatPsShows()
    {
        var (app, docker) = await SpinnerAppAsync();
        using var _ = docker;
        var web = Assert.Single(await app.InstancesAsync(), i => i.GetProperty("process").GetString() == "web");
        Assert.Equal(1024, web.GetProperty("cpu_shares").GetInt64());
        Assert.Equal(1024, await SharesAsync(docker, web));
        var table = AppUnderTest.Must(await app.PaasAsync("ps"));
        Assert.Contains("1024 shares", table.Stdout);
        AppUnderTest.Must(await app.PaasAsync("ps:scale", "web=1:256M"));
        // The resize replaces the instance; wait (bounded) for the old one to go.
        var resized = await app.WaitForInstancesAsync(l => l.Count(i => i.GetProperty("process").GetString() == "web") == 1, TimeSpan.FromSeconds(20));
        web = Assert.Single(resized, i => i.GetProperty("process").GetString() == "web");
        Assert.Equal(256, web.GetProperty("cpu_shares").GetInt64());
        Assert.Equal(256, await SharesAsync(docker, web));
        AppUnderTest.Must(await app.PaasAsync("ps:scale", "web=0"));
    }

    /// <summary>The python fixture, with a process type that spins four busy loops (more than this machine's cores), web at 1 GB.</summary>
    private async Task<(AppUnderTest App, DockerClient Docker)> SpinnerAppAsync()
    {
        var workTree = await platform.NewWorkTreeAsync("python");
        await File.AppendAllTextAsync(Path.Combine(workTree, "Procfile"), "spin: for i in 1 2 3 4; do (while :; do :; done) & done; wait\n");
        await platform.CommitAllAsync(workTree, "spin");
        var name = PlatformFixture.UniqueAppName("cpu");
        AppUnderTest.Must(await platform.PaasAsync(workTree, "apps:create", name));
        AppUnderTest.Must(await platform.PaasAsync(workTree, "git:remote", name));
        AppUnderTest.Must(await platform.GitAsync(workTree, "push", "paas", "main"));
        var app = new AppUnderTest(platform, name, workTree);
        AppUnderTest.Must(await app.PaasAsync("ps:scale", "web=1:1024M"));
        return (app, new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient());
    }

    /// <summary>
    /// Measured on this 2-core machine under a load average of 17-25 from other runs: idle 1.6-3.7 ms, beside the
    /// spinner 11-13 ms through the router, with shares alone and also with a CFS cap of one core (100 ms or 10 ms
    /// period) on every instance. The router and the test client run outside the containers' cgroups, so shares
    /// between containers do not protect that part of the path.
    /// </summary>
    [Fact(Skip = "fails: a busy loop still triples the neighbour's latency through the router (see summary); CPU isolation of the platform's own processes is left to do")]
    public async Task ABusyLoopLeavesTheNeighboursLatencyWithinTwiceIdle()
    {
        var (app, docker) = await SpinnerAppAsync();
        using var _ = docker;
        try
        {
            AppUnderTest.Must(await app.PaasAsync("ps:scale", "spin=1:128M"));
            var spin = Assert.Single(await app.InstancesAsync(), i => i.GetProperty("process").GetString() == "spin");
            Assert.Equal(128, spin.GetProperty("cpu_shares").GetInt64());
            Assert.Equal(128, await SharesAsync(docker, spin));

            // Idle and busy samples interleave (the spinner frozen, then thawed, in rounds), so a load on the
            // machine that comes and goes (other test runs) weighs on both alike. Frozen through its cgroup
            // (v1, cgroupfs driver here), not `docker pause`: a paused container reads as not running, and
            // the platform would replace it.
            var id = (await docker.Containers.InspectContainerAsync("paas-" + spin.GetProperty("instance").GetString())).ID;
            var freezer = $"/sys/fs/cgroup/freezer/docker/{id}/freezer.state";
            Assert.True(File.Exists(freezer), $"no cgroup v1 freezer at {freezer}");
            var idle = new List<TimeSpan>();
            var busy = new List<TimeSpan>();
            for (var round = 0; round < Rounds; round++)
            {
                await File.WriteAllTextAsync(freezer, "FROZEN");
                idle.AddRange(await LatenciesAsync(app));
                await File.WriteAllTextAsync(freezer, "THAWED");
                await Task.Delay(200); // the loops take the cores again at once; a moment to be sure
                busy.AddRange(await LatenciesAsync(app));
            }
            var (idleMedian, busyMedian) = (Median(idle), Median(busy));
            output.WriteLine($"neighbour (1024 shares) median latency through the router, {idle.Count} GETs each: idle {idleMedian.TotalMilliseconds:0.0} ms, beside a 4-loop spinner (128 shares) {busyMedian.TotalMilliseconds:0.0} ms");
            Assert.True(busyMedian <= idleMedian * 2, $"idle {idleMedian.TotalMilliseconds:0.0} ms, busy {busyMedian.TotalMilliseconds:0.0} ms");
        }
        finally
        {
            await app.PaasAsync("ps:scale", "spin=0");
        }
    }

    private const int Rounds = 4;

    private static TimeSpan Median(List<TimeSpan> times) => times.Order().ElementAt(times.Count / 2);

    private static async Task<long?> SharesAsync(DockerClient docker, JsonElement instance) =>
        (await docker.Containers.InspectContainerAsync("paas-" + instance.GetProperty("instance").GetString())).HostConfig.CPUShares;

    /// <summary><see cref="Samples"/> GETs through the router (each must be 200), after two to warm up.</summary>
    private static async Task<List<TimeSpan>> LatenciesAsync(AppUnderTest app)
    {
        for (var i = 0; i < 2; i++)
            Assert.StartsWith("200", await app.GetAsync());
        var times = new List<TimeSpan>(Samples);
        for (var i = 0; i < Samples; i++)
        {
            var clock = Stopwatch.StartNew();
            Assert.StartsWith("200", await app.GetAsync());
            times.Add(clock.Elapsed);
        }
        return times;
    }
}
