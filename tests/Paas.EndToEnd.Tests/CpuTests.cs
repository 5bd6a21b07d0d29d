using System.Diagnostics;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Paas.EndToEnd.Tests;

/// <summary>CPU shares and a hard CPU cap follow a process's size, on the real engine; a busy loop does not starve a neighbour.</summary>
[Collection(PlatformCollection.Name)]
public sealed class CpuTests(PlatformFixture platform, ITestOutputHelper output)
{
    [Fact]
    public async Task ContainerCpuShares_FollowMemory_AndAreWhatPsShows()
    {
        var (app, docker) = await OneGigabyteAppAsync();
        using var _ = docker;
        var web = Assert.Single(await app.InstancesAsync(), i => i.GetProperty("process").GetString() == "web");
        Assert.Equal(1024, web.GetProperty("cpu_shares").GetInt64());
        Assert.Equal(1024, await SharesAsync(docker, web));
        var table = AppUnderTest.Must(await app.PaasAsync("ps"));
        Assert.Contains("1024 shares, max 1 cpu", table.Stdout);
        // The cap: one core for 1 GB, set on the container once the first health check passed (beside its
        // routing, not before it: waited for, bounded).
        Assert.Equal(1_000_000_000, await CapAsync(docker, web, 1_000_000_000));
        AppUnderTest.Must(await app.PaasAsync("ps:scale", "web=1:256M"));
        // The resize replaces the instance; wait (bounded) for the old one to go.
        var resized = await app.WaitForInstancesAsync(l => l.Count(i => i.GetProperty("process").GetString() == "web") == 1, TimeSpan.FromSeconds(20));
        web = Assert.Single(resized, i => i.GetProperty("process").GetString() == "web");
        Assert.Equal(256, web.GetProperty("cpu_shares").GetInt64());
        Assert.Equal(256, await SharesAsync(docker, web));
        AppUnderTest.Must(await app.PaasAsync("ps:scale", "web=0"));
    }

    /// <summary>
    /// A process type spinning four busy loops (more than this machine's cores) at 128 MB beside a web
    /// instance: the web's median latency through the router stays within twice its value with the loops
    /// frozen. Before the cap (shares only) it rose 3-8x: shares weigh containers against each other, not
    /// against the router, which runs outside them. With the cap alone, all under the engine's /docker
    /// cgroup, 2.5x: the kernel splits /docker's one weight across the CPUs by load, so the spinner took the
    /// neighbour's weight; the fixture's cells put each instance in its own top-level cgroup (`/`).
    /// </summary>
    [Fact]
    public async Task ABusyLoopLeavesTheNeighboursLatencyWithinTwiceIdle()
    {
        var workTree = await platform.NewWorkTreeAsync("python");
        await File.AppendAllTextAsync(Path.Combine(workTree, "Procfile"), "spin: for i in 1 2 3 4; do (while :; do :; done) & done; wait\n");
        await platform.CommitAllAsync(workTree, "spin");
        var name = PlatformFixture.UniqueAppName("spin");
        AppUnderTest.Must(await platform.PaasAsync(workTree, "apps:create", name));
        AppUnderTest.Must(await platform.PaasAsync(workTree, "git:remote", name));
        AppUnderTest.Must(await platform.GitAsync(workTree, "push", "paas", "main"));
        var app = new AppUnderTest(platform, name, workTree);
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        try
        {
            AppUnderTest.Must(await app.PaasAsync("ps:scale", "web=1:512M", "spin=1:128M"));
            // The resize replaces web; wait (bounded) for the old one to go.
            var listed = await app.WaitForInstancesAsync(l => l.Count(i => i.GetProperty("process").GetString() == "web") == 1
                && l.Any(i => i.GetProperty("process").GetString() == "spin"), TimeSpan.FromSeconds(30));
            var spin = Assert.Single(listed, i => i.GetProperty("process").GetString() == "spin");
            var web = Assert.Single(listed, i => i.GetProperty("process").GetString() == "web");
            // The caps: a quarter core (the least), and half a core for 512 MB, set once web passed its first check.
            Assert.Equal(0.25, spin.GetProperty("cpu_cores").GetDouble());
            Assert.Equal(0.5, web.GetProperty("cpu_cores").GetDouble());
            var spinContainer = await docker.Containers.InspectContainerAsync("paas-" + spin.GetProperty("instance").GetString());
            Assert.Equal(250_000_000, NanoCpus(spinContainer.HostConfig));
            Assert.Equal(500_000_000, await CapAsync(docker, web, 500_000_000));
            Assert.Contains("128 shares, max 0.25 cpu", AppUnderTest.Must(await app.PaasAsync("ps")).Stdout);

            // Idle and busy samples interleave (the loops frozen, then thawed, in rounds), so a load on the
            // machine that comes and goes (other test runs) weighs on both alike. Frozen through the cgroup,
            // not `docker pause`: a paused container reads as not running, and the platform would replace it.
            var freeze = Freezer(spinContainer.ID);
            var idle = new List<TimeSpan>();
            var busy = new List<TimeSpan>();
            try
            {
                for (var round = 0; round < Rounds; round++)
                {
                    await File.WriteAllTextAsync(freeze.Path, freeze.Frozen);
                    idle.AddRange(await LatenciesAsync(app));
                    await File.WriteAllTextAsync(freeze.Path, freeze.Thawed);
                    await Task.Delay(200); // the loops take their cores again at once; a moment to be sure
                    busy.AddRange(await LatenciesAsync(app));
                }
            }
            finally
            {
                await File.WriteAllTextAsync(freeze.Path, freeze.Thawed);
            }
            var (idleMedian, busyMedian) = (Median(idle), Median(busy));
            var load = (await File.ReadAllTextAsync("/proc/loadavg")).Split(' ')[0];
            output.WriteLine($"idle ms, sorted: {string.Join(' ', idle.Order().Select(t => t.TotalMilliseconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))}");
            output.WriteLine($"busy ms, sorted: {string.Join(' ', busy.Order().Select(t => t.TotalMilliseconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))}");
            output.WriteLine($"neighbour (512 MB, max 0.5 cpu) median latency through the router, {idle.Count} GETs each: idle {idleMedian.TotalMilliseconds:0.0} ms, "
                + $"beside a 4-loop spinner (128 MB, max 0.25 cpu) {busyMedian.TotalMilliseconds:0.0} ms; load average {load}");
            Assert.True(busyMedian <= idleMedian * 2, $"idle {idleMedian.TotalMilliseconds:0.0} ms, busy {busyMedian.TotalMilliseconds:0.0} ms (load average {load})");
        }
        finally
        {
            await app.PaasAsync("ps:scale", "web=0", "spin=0");
        }
    }

    /// <summary>Enough alternations that a burst of load from parallel test runs (seconds long) weighs on both sides alike.</summary>
    private const int Rounds = 8;
    private const int Samples = 15;

    /// <summary>The container's cgroup freezer: v1 with the cgroupfs driver (this machine; under / or /docker), or v2 with systemd's.</summary>
    private static (string Path, string Frozen, string Thawed) Freezer(string containerId)
    {
        var v1 = $"/sys/fs/cgroup/freezer/{containerId}/freezer.state";
        if (File.Exists(v1))
            return (v1, "FROZEN", "THAWED");
        if (File.Exists($"/sys/fs/cgroup/freezer/docker/{containerId}/freezer.state"))
            return ($"/sys/fs/cgroup/freezer/docker/{containerId}/freezer.state", "FROZEN", "THAWED");
        var v2 = $"/sys/fs/cgroup/system.slice/docker-{containerId}.scope/cgroup.freeze";
        Assert.True(File.Exists(v2), $"no cgroup freezer for the spinner at {v1} or {v2}");
        return (v2, "1", "0");
    }

    private static TimeSpan Median(List<TimeSpan> times) => times.Order().ElementAt(times.Count / 2);

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

    /// <summary>The python fixture, web at 1 GB.</summary>
    private async Task<(AppUnderTest App, DockerClient Docker)> OneGigabyteAppAsync()
    {
        var workTree = await platform.NewWorkTreeAsync("python");
        var name = PlatformFixture.UniqueAppName("cpu");
        AppUnderTest.Must(await platform.PaasAsync(workTree, "apps:create", name));
        AppUnderTest.Must(await platform.PaasAsync(workTree, "git:remote", name));
        AppUnderTest.Must(await platform.GitAsync(workTree, "push", "paas", "main"));
        var app = new AppUnderTest(platform, name, workTree);
        AppUnderTest.Must(await app.PaasAsync("ps:scale", "web=1:1024M"));
        return (app, new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient());
    }

    private static async Task<long?> SharesAsync(DockerClient docker, JsonElement instance) =>
        (await docker.Containers.InspectContainerAsync("paas-" + instance.GetProperty("instance").GetString())).HostConfig.CPUShares;

    /// <summary>The container's CPU cap as nano-CPUs (cores x 10^9), from its CFS quota and period; 0 when uncapped.</summary>
    private static long NanoCpus(HostConfig config) =>
        config.CPUQuota > 0 && config.CPUPeriod > 0 ? config.CPUQuota * 1_000_000_000 / config.CPUPeriod : 0;

    /// <summary>The instance's CPU cap in nano-CPUs once it is <paramref name="expected"/>, or what it is after 10 s.</summary>
    private static async Task<long> CapAsync(DockerClient docker, JsonElement instance, long expected)
    {
        var name = "paas-" + instance.GetProperty("instance").GetString();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var cap = NanoCpus((await docker.Containers.InspectContainerAsync(name)).HostConfig);
            if (cap == expected || deadline.Elapsed > TimeSpan.FromSeconds(10))
                return cap;
            await Task.Delay(100);
        }
    }
}
