using System.Diagnostics;
using Paas.Controller.Tests.State;
using Paas.EndToEnd.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Paas.EndToEnd.Tests;

/// <summary>A leader that cannot renew its lease stops leading before the lease can expire: the process exits with status 3.</summary>
[Collection(SupervisionCollection.Name)]
public sealed class LeaderFencingTests(ITestOutputHelper output)
{
    [Fact]
    public async Task LeaderCutOffFromEtcd_ExitsWithStatus3_BeforeItsLeaseRunsOut()
    {
        using var etcd = EtcdCluster.Start();
        var prefix = "e2e-fence-" + Guid.NewGuid().ToString("N")[..8] + ":";
        var dataDirectory = Path.Combine(Path.GetTempPath(), "paas-fence-" + Guid.NewGuid().ToString("N")[..8]);
        var port = FreePort.Next();
        try
        {
            using var controller = new PlatformProcess(RepoPaths.Dll("src/Paas.Controller", "Paas.Controller"), new Dictionary<string, string>
            {
                ["PAAS_DATA_DIR"] = dataDirectory,
                ["PAAS_API_PORT"] = port.ToString(),
                ["PAAS_API_BIND"] = "127.0.0.1",
                ["PAAS_API_TLS_PORT"] = "0",
                ["PAAS_REDIS"] = PlatformFixture.Redis,
                ["PAAS_REDIS_PREFIX"] = prefix,
                ["PAAS_BUILDPACKS_DIR"] = Path.Combine(RepoPaths.Root, "buildpacks"),
                ["PAAS_ETCD_ENDPOINTS"] = string.Join(',', etcd.ClientUrls),
            });
            await controller.WaitReadyAsync($"http://127.0.0.1:{port}/metrics", TimeSpan.FromSeconds(30));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var metrics = "";
            for (var waited = Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromSeconds(15) && !metrics.Contains("paas_controller_leader 1"); await Task.Delay(100))
                metrics = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
            Assert.Contains("paas_controller_leader 1", metrics);

            // Two of three members gone: no quorum, so the lease cannot be renewed.
            var leader = etcd.Leader();
            etcd.Kill(leader);
            etcd.Kill((leader + 1) % 3);
            var clock = Stopwatch.StartNew();
            while (!controller.HasExited && clock.Elapsed < TimeSpan.FromSeconds(20))
                await Task.Delay(50);
            output.WriteLine($"the leader exited {clock.Elapsed.TotalSeconds:0.0} s after etcd lost its quorum");

            Assert.True(controller.HasExited, controller.Output);
            Assert.True(controller.ExitCode == 3, $"exit status {controller.ExitCode}:\n{controller.Output}");
            Assert.Contains("lost the leadership", controller.Output);
            // It stopped leading within the step-down time (4 s after its last renewal, a second at most
            // before the kill) plus the host's shutdown: before etcd could hand the lease to anyone (6 s).
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"exited after {clock.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            using var redis = await ConnectionMultiplexer.ConnectAsync(PlatformFixture.Redis);
            await foreach (var key in redis.GetServers()[0].KeysAsync(pattern: prefix + "*"))
                await redis.GetDatabase().KeyDeleteAsync(key);
            if (Directory.Exists(dataDirectory))
                Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
