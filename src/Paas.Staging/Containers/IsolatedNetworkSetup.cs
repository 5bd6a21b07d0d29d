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
        NetworkResponse network;
        try
        {
            network = await docker.Networks.InspectNetworkAsync(IsolatedNetwork.Name);
        }
        catch (DockerNetworkNotFoundException)
        {
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
            network = await docker.Networks.InspectNetworkAsync(IsolatedNetwork.Name);
        }
        await RefuseConnectionsToThisHostAsync(BridgeInterface(network));
    }

    /// <summary>The bridge's interface on the host: named by the option when set, else Docker's br- and the network id.</summary>
    private static string BridgeInterface(NetworkResponse network) =>
        network.Options?.TryGetValue("com.docker.network.bridge.name", out var name) == true && name.Length > 0 ? name : "br-" + network.ID[..12];

    /// <summary>
    /// Containers may not open connections to the host they run on (its API, router, agent, Redis ports,
    /// whatever is bound to every interface): only replies to connections the host opened (published ports,
    /// the router's requests) come back in. One iptables rule in the host's INPUT chain, added once; this
    /// process runs in the engine's network namespace (root), as the agent and controller do.
    /// </summary>
    private static async Task RefuseConnectionsToThisHostAsync(string bridge)
    {
        // TCP only: the platform's ports are TCP, and a DNS server on the host (some set-ups) stays reachable.
        string[] rule = ["INPUT", "-i", bridge, "-p", "tcp", "-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "paas: containers may not connect to their host", "-j", "REJECT", "--reject-with", "tcp-reset"];
        if (await IptablesAsync(["-w", "-C", .. rule]) == 0)
            return;
        var added = await IptablesAsync(["-w", "-I", .. rule]);
        if (added != 0)
            throw new InvalidOperationException($"Could not add the iptables rule that keeps containers off their host (iptables exited with {added}); is this process root, with iptables installed?");
    }

    private static async Task<int> IptablesAsync(string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("iptables") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = System.Diagnostics.Process.Start(start)!;
        await process.WaitForExitAsync();
        return process.ExitCode;
    }
}
