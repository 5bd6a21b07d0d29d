using Paas.EndToEnd.Tests.Infrastructure;
using StackExchange.Redis;

namespace Paas.EndToEnd.Tests;

/// <summary>/healthz of the cell agent and controller asks what they depend on, so a supervisor or monitor sees a broken dependency.</summary>
[Collection(SupervisionCollection.Name)]
public sealed class DependencyHealthTests
{
    [Fact]
    public async Task ACellAgentThatCannotReachItsDockerEngine_Answers503_NamingDocker()
    {
        var prefix = "e2e-health-" + Guid.NewGuid().ToString("N")[..8] + ":";
        var dataDirectory = Path.Combine(Path.GetTempPath(), "paas-health-" + Guid.NewGuid().ToString("N")[..8]);
        var port = FreePort.Next();
        using var redis = await ConnectionMultiplexer.ConnectAsync(PlatformFixture.Redis);
        // The cell waits for a controller to publish the platform id; this test has no controller.
        await redis.GetDatabase().StringSetAsync(prefix + "platform-id", "healthtest");
        try
        {
            using var cell = new PlatformProcess(RepoPaths.Dll("src/Paas.Cell", "Paas.Cell"), new Dictionary<string, string>
            {
                ["PAAS_CELL_NAME"] = "health-" + Guid.NewGuid().ToString("N")[..6],
                ["PAAS_CELL_PORT"] = port.ToString(),
                ["PAAS_DATA_DIR"] = dataDirectory,
                ["PAAS_REDIS"] = PlatformFixture.Redis,
                ["PAAS_REDIS_PREFIX"] = prefix,
                ["DOCKER_HOST"] = $"unix://{dataDirectory}/no-engine.sock",
            });
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            HttpResponseMessage? response = null;
            for (var i = 0; i < 300 && response is null; i++)
            {
                try
                {
                    response = await http.GetAsync($"http://127.0.0.1:{port}/healthz");
                }
                catch (HttpRequestException)
                {
                    Assert.False(cell.HasExited, $"the cell agent exited:\n{cell.Output}");
                    await Task.Delay(100);
                }
            }
            Assert.NotNull(response);

            var body = await response.Content.ReadAsStringAsync();

            Assert.Equal(503, (int)response.StatusCode);
            Assert.StartsWith("unhealthy: docker: ", body);
            Assert.DoesNotContain("redis", body);
            Assert.Equal(1, body.TrimEnd('\n').Split('\n').Length);
        }
        finally
        {
            await foreach (var key in redis.GetServers()[0].KeysAsync(pattern: prefix + "*"))
                await redis.GetDatabase().KeyDeleteAsync(key);
            if (Directory.Exists(dataDirectory))
                Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
