using System.Text.Json;
using Docker.DotNet;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// `paas storage:mount`: a persistent directory for a process type, kept across redeploys on its cell's volume;
/// a type with an unshared volume stays at one instance, and unmounting takes the directory away again.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class StorageTests(PlatformFixture platform)
{
    [Fact]
    public async Task StorageMount_FileInDataSurvivesARedeploy_ScalingAboveOneIsRefused_UnmountTakesItAway()
    {
        var name = PlatformFixture.UniqueAppName("datafile");
        var workTree = await platform.NewWorkTreeAsync("datafile");
        AppUnderTest.Must(await platform.PaasAsync(workTree, "apps:create", name));
        AppUnderTest.Must(await platform.PaasAsync(workTree, "git:remote", name));
        var app = new AppUnderTest(platform, name, workTree);
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        string? volume = null;
        try
        {
            // Mounted before the first push: the first instance's cell becomes the volume's.
            AppUnderTest.Must(await app.PaasAsync("storage:mount", "/data"));
            AppUnderTest.Must(await platform.GitAsync(workTree, "push", "paas", "main"));
            var first = await app.GetAsync();
            var second = await app.GetAsync();

            await File.AppendAllTextAsync(Path.Combine(workTree, "server.py"), "# redeployed\n");
            await platform.CommitAllAsync(workTree, "redeploy");
            AppUnderTest.Must(await platform.GitAsync(workTree, "push", "paas", "main"));
            var afterRedeploy = await app.GetAsync();

            var scale = await app.PaasAsync("ps:scale", "web=2");
            var listed = JsonDocument.Parse(AppUnderTest.Must(await app.PaasAsync("storage:list", "--json")).Stdout).RootElement.EnumerateArray().Single();
            volume = listed.GetProperty("volume").GetString();
            var web = (await app.InstancesAsync()).Where(i => i.GetProperty("process").GetString() == "web").ToList();

            var unmount = await app.PaasAsync("storage:unmount", "/data");
            var afterUnmount = await app.GetAsync();

            Assert.Equal("200 visits: 1\n", first);
            Assert.Equal("200 visits: 2\n", second);
            Assert.Equal("200 visits: 3\n", afterRedeploy);
            Assert.NotEqual(0, scale.ExitCode);
            Assert.Contains("web has a volume at /data, which one instance at a time may use, so it stays at one instance", scale.All);
            Assert.Single(web);
            Assert.Equal("/data", listed.GetProperty("path").GetString());
            Assert.Equal(web[0].GetProperty("cell").GetString(), listed.GetProperty("cell").GetString());
            Assert.True(unmount.ExitCode == 0, unmount.ToString());
            Assert.StartsWith("500 cannot write /data", afterUnmount);
        }
        finally
        {
            AppUnderTest.Must(await app.PaasAsync("apps:destroy", "--confirm", name));
            if (volume is not null)
                await docker.Volumes.RemoveAsync(volume, force: true);
        }
    }
}
