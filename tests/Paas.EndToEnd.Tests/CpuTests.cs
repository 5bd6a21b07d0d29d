using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>CPU shares follow a process's size, on the real engine.</summary>
[Collection(PlatformCollection.Name)]
public sealed class CpuTests(PlatformFixture platform)
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
        Assert.Contains("1024 shares", table.Stdout);
        AppUnderTest.Must(await app.PaasAsync("ps:scale", "web=1:256M"));
        // The resize replaces the instance; wait (bounded) for the old one to go.
        var resized = await app.WaitForInstancesAsync(l => l.Count(i => i.GetProperty("process").GetString() == "web") == 1, TimeSpan.FromSeconds(20));
        web = Assert.Single(resized, i => i.GetProperty("process").GetString() == "web");
        Assert.Equal(256, web.GetProperty("cpu_shares").GetInt64());
        Assert.Equal(256, await SharesAsync(docker, web));
        AppUnderTest.Must(await app.PaasAsync("ps:scale", "web=0"));
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
}
