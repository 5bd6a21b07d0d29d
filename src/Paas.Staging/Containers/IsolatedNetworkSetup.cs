using System.Runtime.CompilerServices;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.Core.Instances;

namespace Paas.Staging.Containers;

/// <summary>
/// Makes sure an engine has the <see cref="IsolatedNetwork"/> before a container joins it: once per engine
/// client and process, whoever asks first (a cell agent, the stager, the one-off runner).
/// </summary>
public static class IsolatedNetworkSetup
{
    private static readonly ConditionalWeakTable<IDockerClient, Task> Ensured = new();

    /// <summary>The network name to put in <see cref="HostConfig.NetworkMode"/>, once it exists on this engine.</summary>
    public static async Task<string> EnsureAsync(IDockerClient docker)
    {
        var setup = Ensured.GetValue(docker, CreateAsync);
        try
        {
            await setup;
        }
        catch
        {
            // Not remembered: the next container tries again (the engine may have been restarting).
            Ensured.Remove(docker);
            throw;
        }
        return IsolatedNetwork.Name;
    }

    private static async Task CreateAsync(IDockerClient docker)
    {
        try
        {
            await docker.Networks.InspectNetworkAsync(IsolatedNetwork.Name);
            return;
        }
        catch (DockerNetworkNotFoundException)
        {
        }
        try
        {
            await docker.Networks.CreateNetworkAsync(new NetworksCreateParameters
            {
                Name = IsolatedNetwork.Name,
                Driver = IsolatedNetwork.Driver,
                Options = new Dictionary<string, string>(IsolatedNetwork.Options),
                CheckDuplicate = true,
            });
        }
        catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            // Another process on the same engine made it first.
        }
    }
}
