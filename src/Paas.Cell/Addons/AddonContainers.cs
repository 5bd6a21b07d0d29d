using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.Core.Addons;
using Paas.Core.Instances;

namespace Paas.Cell.Addons;

/// <summary>
/// Add-on servers (PostgreSQL, Redis) on this cell's engine: one container per add-on, its data on a named
/// volume that outlives the container, so a dead server is started again on the same data. Like instances,
/// everything is read back from labels. The container joins the isolated network, where no container may
/// open a connection to another (<see cref="IsolatedNetwork"/>); one firewall rule per add-on opens exactly
/// its address and port on that network, so any app on this engine can reach it, and only its credentials
/// (SCRAM for PostgreSQL, requirepass for Redis) let a client in.
/// </summary>
public sealed class AddonContainers(IDockerClient docker, string cellName, string platformId, TimeProvider time, ILogger<AddonContainers> logger)
{
    private const string RoleValue = "addon";
    private const string AddonLabel = "paas.addon";
    private const string KindLabel = "paas.addon.kind";
    private const string User = "1000:1000";

    public async Task<AddonState> StartAsync(AddonSpec spec, CancellationToken cancellationToken)
    {
        var kind = AddonKind.Find(spec.Kind) ?? throw new ArgumentException($"Unknown add-on kind {spec.Kind}.");
        var name = AddonKind.ContainerName(spec.Id);
        var volume = AddonKind.VolumeName(spec.Id);
        await docker.Volumes.CreateAsync(new VolumesCreateParameters
        {
            Name = volume,
            Labels = new Dictionary<string, string> { [ContainerLabels.Platform] = platformId, [ContainerLabels.App] = spec.App, [AddonLabel] = spec.Id },
        }, cancellationToken);
        try
        {
            var existing = await docker.Containers.InspectContainerAsync(name, cancellationToken);
            if (existing.State.Running)
                return await StateOfAsync(existing, cancellationToken);
            // A dead server is replaced by a fresh container on the same volume (the data stays).
            await docker.Containers.RemoveContainerAsync(existing.ID, new ContainerRemoveParameters { Force = true }, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
        }
        var network = await Paas.Staging.Containers.IsolatedNetworkSetup.EnsureAsync(docker);
        var created = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Name = name,
            Hostname = name,
            Image = spec.Image,
            User = User,
            Cmd = [kind.Name],
            Env =
            [
                $"PAAS_ADDON_USER={spec.User}",
                $"PAAS_ADDON_PASSWORD={spec.Password}",
                $"PAAS_ADDON_DATABASE={spec.Database}",
                $"PAAS_ADDON_MEMORY_MB={spec.MemoryBytes / (1024 * 1024)}",
            ],
            // PostgreSQL's SIGTERM waits for every client to leave; SIGINT is its fast, clean shutdown.
            StopSignal = kind == AddonKind.Postgresql ? "SIGINT" : "SIGTERM",
            Labels = new Dictionary<string, string>
            {
                [ContainerLabels.Platform] = platformId,
                [ContainerLabels.Role] = RoleValue,
                [ContainerLabels.Cell] = cellName,
                [ContainerLabels.App] = spec.App,
                [AddonLabel] = spec.Id,
                [KindLabel] = kind.Name,
            },
            HostConfig = new HostConfig
            {
                Mounts = [new Mount { Type = "volume", Source = volume, Target = "/data" }],
                NetworkMode = network,
                Memory = spec.MemoryBytes,
                MemorySwap = spec.MemoryBytes,
                CPUShares = CpuShares.ForMemory(spec.MemoryBytes),
                PidsLimit = 512,
                Privileged = false,
                CapDrop = ["ALL"],
                SecurityOpt = ["no-new-privileges"],
                Init = true,
            },
        }, cancellationToken);
        await docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), cancellationToken);
        return await StateOfAsync(await docker.Containers.InspectContainerAsync(created.ID, cancellationToken), cancellationToken);
    }

    /// <summary>Every add-on container this cell runs or ran; opens (again) the firewall rule of each running one at its current address.</summary>
    public async Task<IReadOnlyList<AddonState>> ListAsync(CancellationToken cancellationToken)
    {
        var containers = await docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool>
                {
                    [$"{ContainerLabels.Platform}={platformId}"] = true,
                    [$"{ContainerLabels.Role}={RoleValue}"] = true,
                    [$"{ContainerLabels.Cell}={cellName}"] = true,
                },
            },
        }, cancellationToken);
        var states = new List<AddonState>();
        foreach (var c in containers)
        {
            try
            {
                states.Add(await StateOfAsync(await docker.Containers.InspectContainerAsync(c.ID, cancellationToken), cancellationToken));
            }
            catch (DockerContainerNotFoundException)
            {
            }
        }
        return states;
    }

    /// <summary>Stops and removes the add-on's container and its firewall rule; with <paramref name="volume"/>, its data too.</summary>
    public async Task RemoveAsync(string id, bool volume, CancellationToken cancellationToken)
    {
        var name = AddonKind.ContainerName(id);
        try
        {
            await docker.Containers.StopContainerAsync(name, new ContainerStopParameters { WaitBeforeKillSeconds = 30 }, cancellationToken);
            await docker.Containers.RemoveContainerAsync(name, new ContainerRemoveParameters { Force = true }, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
        }
        await AddonFirewall.CloseAsync(id);
        if (volume)
        {
            try
            {
                await docker.Volumes.RemoveAsync(AddonKind.VolumeName(id), force: true, cancellationToken);
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
            }
        }
    }

    /// <summary>Starts a command in the add-on's container as its unprivileged user, attached to its output (and input).</summary>
    private async Task<(string ExecId, MultiplexedStream Stream)> AttachExecAsync(string id, IReadOnlyList<string> command, bool withStdin, CancellationToken cancellationToken)
    {
        var exec = await docker.Exec.ExecCreateContainerAsync(AddonKind.ContainerName(id), new ContainerExecCreateParameters
        {
            Cmd = command.ToList(),
            User = User,
            AttachStdin = withStdin,
            AttachStdout = true,
            AttachStderr = true,
        }, cancellationToken);
        return (exec.ID, await docker.Exec.StartAndAttachContainerExecAsync(exec.ID, false, cancellationToken));
    }

    /// <summary>
    /// Runs a command in the add-on's container as its unprivileged user, with <paramref name="stdin"/> as its
    /// input; returns its exit code and output (stdout and stderr interleaved, bounded).
    /// </summary>
    public async Task<AddonExecResult> ExecAsync(string id, IReadOnlyList<string> command, string? stdin, CancellationToken cancellationToken)
    {
        var (execId, stream) = await AttachExecAsync(id, command, withStdin: stdin is not null, cancellationToken);
        using var _ = stream;
        if (stdin is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(stdin);
            await stream.WriteAsync(bytes, 0, bytes.Length, cancellationToken);
            stream.CloseWrite();
        }
        var output = new StringBuilder();
        var buffer = new byte[16384];
        while (true)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, cancellationToken);
            if (read.EOF)
                break;
            if (output.Length < 4 * 1024 * 1024)
                output.Append(Encoding.UTF8.GetString(buffer, 0, read.Count));
        }
        var result = await docker.Exec.InspectContainerExecAsync(execId, cancellationToken);
        return new AddonExecResult(result.ExitCode, output.ToString());
    }

    /// <summary>
    /// Runs a command in the add-on's container with its standard output copied to <paramref name="stdout"/> as
    /// it comes (a dump of any size never sits in memory) and, when given, <paramref name="stdin"/> as its input
    /// (a restore). Returns the exit code and what it printed on standard error (bounded).
    /// </summary>
    public async Task<AddonExecResult> ExecStreamingAsync(string id, IReadOnlyList<string> command, Stream? stdin, Stream stdout, CancellationToken cancellationToken)
    {
        var (execId, stream) = await AttachExecAsync(id, command, withStdin: stdin is not null, cancellationToken);
        using var _ = stream;
        var feeding = stdin is null ? Task.CompletedTask : Task.Run(async () =>
        {
            await stream.CopyFromAsync(stdin, cancellationToken);
            stream.CloseWrite();
        }, cancellationToken);
        var errors = new StringBuilder();
        var buffer = new byte[81920];
        while (true)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, cancellationToken);
            if (read.EOF)
                break;
            if (read.Target == MultiplexedStream.TargetStream.StandardOut)
                await stdout.WriteAsync(buffer.AsMemory(0, read.Count), cancellationToken);
            else if (errors.Length < 64 * 1024)
                errors.Append(Encoding.UTF8.GetString(buffer, 0, read.Count));
        }
        await feeding;
        var result = await docker.Exec.InspectContainerExecAsync(execId, cancellationToken);
        return new AddonExecResult(result.ExitCode, errors.ToString());
    }

    private async Task<AddonState> StateOfAsync(ContainerInspectResponse c, CancellationToken cancellationToken)
    {
        var labels = c.Config.Labels;
        var id = labels.TryGetValue(AddonLabel, out var i) ? i : c.Name.TrimStart('/');
        var kind = AddonKind.Find(labels.TryGetValue(KindLabel, out var k) ? k : "") ?? AddonKind.Postgresql;
        var ready = false;
        if (c.State.Running && AddressOf(c) is { } address)
        {
            await AddonFirewall.OpenAsync(id, address, kind.Port, logger);
            ready = await AcceptsAsync(address, kind.Port, cancellationToken);
        }
        return new AddonState(
            Id: id,
            App: labels.TryGetValue(ContainerLabels.App, out var app) ? app : "",
            Kind: kind.Name,
            Cell: cellName,
            Running: c.State.Running,
            Ready: ready,
            ExitCode: c.State.ExitCode,
            Since: DateTimeOffset.TryParse(c.State.StartedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : time.GetUtcNow(),
            SizeBytes: await VolumeSizeAsync(id, cancellationToken));
    }

    private static IPAddress? AddressOf(ContainerInspectResponse c) =>
        c.NetworkSettings?.Networks is { } networks && networks.TryGetValue(IsolatedNetwork.Name, out var endpoint)
            && IPAddress.TryParse(endpoint.IPAddress, out var address) ? address : null;

    /// <summary>Ready means it accepts connections on its port (PostgreSQL listens on the network only once initialised).</summary>
    private static async Task<bool> AcceptsAsync(IPAddress address, int port, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(address, port, bounded.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>Bytes under the volume's directory on this host (the agent runs as root beside the engine).</summary>
    private async Task<long> VolumeSizeAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            var volume = await docker.Volumes.InspectAsync(AddonKind.VolumeName(id), cancellationToken);
            var root = new DirectoryInfo(volume.Mountpoint);
            return root.Exists
                ? root.EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 }).Sum(f => f.Length)
                : 0;
        }
        catch (Exception e) when (e is DockerApiException or IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
