using Docker.DotNet;

namespace Paas.Cell.Docker;

public static class DockerClientFactory
{
    /// <summary>
    /// No API version is pinned: requests go to the engine's unversioned paths, so the engine answers in
    /// its own current version and old and new engines both work.
    /// </summary>
    public static DockerClient Create(string endpoint) =>
        new DockerClientConfiguration(new Uri(endpoint), defaultTimeout: TimeSpan.FromMinutes(5)).CreateClient();
}
