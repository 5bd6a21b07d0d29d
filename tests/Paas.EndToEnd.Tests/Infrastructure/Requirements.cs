using Docker.DotNet;
using StackExchange.Redis;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The real parts end-to-end tests need. They are never skipped: a missing engine, Redis or stack image
/// fails the run with a sentence saying what to start (`make test` starts them all).
/// </summary>
public static class Requirements
{
    public static async Task EnsureAsync(string redis, string stackImage)
    {
        try
        {
            using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
            await docker.System.PingAsync();
            await docker.Images.InspectImageAsync(stackImage);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"End-to-end tests need a running Docker engine with the {stackImage} image (run `make test`, which sets both up): {e.Message}", e);
        }
        try
        {
            using var connection = await ConnectionMultiplexer.ConnectAsync(redis + ",connectTimeout=3000");
            await connection.GetDatabase().PingAsync();
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"End-to-end tests need Redis at {ConfigurationOptions.Parse(redis).ToString(includePassword: false)} (run `make test`, which starts it): {e.Message}", e);
        }
    }
}
