using System.Diagnostics;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// One "host" of a <see cref="TestNetwork"/>: a network namespace (named <see cref="Name"/>) whose eth0 has
/// <see cref="Address"/>, with a default route via the network's gateway, and its own dockerd. Processes started
/// here (a cell agent, say) share the namespace's network and nothing else: they see the main host's files and
/// reach the main host only at the gateway address, never at 127.0.0.1.
/// <para>
/// The dockerd is started with <c>nsenter --net</c> (<c>ip netns exec</c> remounts /sys, and dockerd then finds no
/// devices cgroup), with its own data root, exec root, socket, pid file and containerd, and its containers in the
/// cgroup /NAME. Inside the namespace it has its own docker0 (172.17.0.1/16) and iptables rules, so its containers
/// publish ports on <see cref="Address"/> as on any host.
/// </para>
/// </summary>
public sealed class TestHost : IAsyncDisposable
{
    private readonly TestNetwork _network;
    private readonly List<PlatformProcess> _processes = new();
    private PlatformProcess? _dockerd;
    private DockerClient? _docker;

    internal TestHost(TestNetwork network, string name, string address, string directory)
    {
        _network = network;
        Name = name;
        Address = address;
        Directory = directory;
    }

    /// <summary>The namespace's name, which is also the name of the veth's end on the main host.</summary>
    public string Name { get; }

    /// <summary>This host's address, reachable from the main host and the gateway's services.</summary>
    public string Address { get; }

    /// <summary>Where this host's dockerd keeps its data, socket and pid file.</summary>
    public string Directory { get; }

    public string DockerEndpoint => "unix://" + Path.Combine(Directory, "docker.sock");

    /// <summary>A client of this host's own dockerd.</summary>
    public DockerClient DockerClient => _docker ?? throw new InvalidOperationException($"{Name} has not started.");

    /// <summary>How long the namespace, its link and its dockerd took until the engine answered.</summary>
    public TimeSpan StartedIn { get; private set; }

    public string DockerdOutput => _dockerd?.Output ?? "";

    private string NamespacePath => "/run/netns/" + Name;

    internal async Task StartAsync(IReadOnlyList<string> insecureRegistries)
    {
        var clock = Stopwatch.StartNew();
        await StartNetworkAsync();
        await StartEngineAsync(insecureRegistries);
        StartedIn = clock.Elapsed;
    }

    /// <summary>The namespace and its link only, no dockerd: a host for servers the platform reaches over the network (a package index).</summary>
    internal async Task StartBareAsync()
    {
        var clock = Stopwatch.StartNew();
        await StartNetworkAsync();
        StartedIn = clock.Elapsed;
    }

    private async Task StartNetworkAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        await ProcessRunner.MustRunAsync("ip", "netns", "add", Name);
        await ProcessRunner.MustRunAsync("ip", "link", "add", Name, "type", "veth", "peer", "name", "eth0", "netns", Name);
        await ProcessRunner.MustRunAsync("ip", "link", "set", Name, "master", _network.BridgeName, "up");
        await ProcessRunner.MustRunAsync("ip", "-n", Name, "addr", "add", Address + "/24", "dev", "eth0");
        await ProcessRunner.MustRunAsync("ip", "-n", Name, "link", "set", "lo", "up");
        await ProcessRunner.MustRunAsync("ip", "-n", Name, "link", "set", "eth0", "up");
        await ProcessRunner.MustRunAsync("ip", "-n", Name, "route", "add", "default", "via", _network.Gateway);
    }

    private async Task StartEngineAsync(IReadOnlyList<string> insecureRegistries)
    {

        // An empty configuration file of its own, so the machine's /etc/docker/daemon.json (the main engine's) is not read.
        var config = Path.Combine(Directory, "daemon.json");
        await File.WriteAllTextAsync(config, "{}");
        List<string> args =
        [
            "--net=" + NamespacePath, "--", "dockerd",
            "--config-file", config,
            "--data-root", Path.Combine(Directory, "data"),
            "--exec-root", Path.Combine(Directory, "exec"),
            "--host", DockerEndpoint,
            "--pidfile", Path.Combine(Directory, "docker.pid"),
            "--cgroup-parent", "/" + Name,
            // Containers get 2 s to stop when dockerd does; disposal removes them first anyway.
            "--shutdown-timeout", "2",
            "--log-level", "warn",
        ];
        foreach (var registry in insecureRegistries)
            args.AddRange(["--insecure-registry", registry]);
        _dockerd = new PlatformProcess(ProcessRunner.StartInfo("nsenter", args, null, new Dictionary<string, string>()));
        _docker = new DockerClientConfiguration(new Uri(DockerEndpoint)).CreateClient();
        await WaitForDockerAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Starts a long-running program in this host's network (env added to the test's own), its output kept; it is
    /// stopped when the host is disposed, or earlier with <see cref="PlatformProcess.Stop"/>.
    /// </summary>
    public PlatformProcess StartProcess(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var process = new PlatformProcess(ProcessRunner.StartInfo("nsenter", ["--net=" + NamespacePath, "--", file, .. args], null,
            environment ?? new Dictionary<string, string>()));
        lock (_processes)
            _processes.Add(process);
        return process;
    }

    /// <summary>Starts a built .NET program (a cell agent: RepoPaths.Dll("src/Paas.Cell", "Paas.Cell")) in this host's network.</summary>
    public PlatformProcess StartDll(string dll, IReadOnlyDictionary<string, string> environment) => StartProcess("dotnet", [dll], environment);

    /// <summary>Runs a program to completion in this host's network.</summary>
    public Task<ProcessResult> RunAsync(string file, IEnumerable<string> args, TimeSpan? timeout = null) =>
        ProcessRunner.RunAsync("nsenter", ["--net=" + NamespacePath, "--", file, .. args], null, new Dictionary<string, string>(), timeout ?? TimeSpan.FromMinutes(1));

    /// <summary>Takes this host off the network (its veth's end on the main host down) or puts it back; it keeps running.</summary>
    public Task SetLinkAsync(bool up) => ProcessRunner.MustRunAsync("ip", "link", "set", Name, up ? "up" : "down");

    /// <summary>Pulls an image (repository@digest or repository:tag) into this host's engine, failing with the engine's message.</summary>
    public async Task PullAsync(string image, AuthConfig? credentials = null)
    {
        var (repository, tag) = SplitReference(image);
        var progress = new DockerProgress();
        await DockerClient.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = repository, Tag = tag }, credentials, progress);
        progress.ThrowIfFailed($"{Name} pulling {image}");
    }

    /// <summary>"registry:5000/app@sha256:…" or "registry:5000/app:v1" into the repository and what the engine's API calls its tag.</summary>
    private static (string Repository, string Tag) SplitReference(string image)
    {
        var digest = image.IndexOf('@');
        if (digest > 0)
            return (image[..digest], image[(digest + 1)..]);
        var colon = image.LastIndexOf(':');
        return colon > image.LastIndexOf('/') ? (image[..colon], image[(colon + 1)..]) : (image, "latest");
    }

    public async ValueTask DisposeAsync()
    {
        List<PlatformProcess> processes;
        lock (_processes)
            processes = [.. _processes];
        foreach (var process in processes)
            process.Stop(TimeSpan.FromSeconds(5));
        if (_docker is not null && _dockerd is { HasExited: false })
            await RemoveContainersAsync(_docker);
        _dockerd?.Stop(TimeSpan.FromSeconds(30));
        _docker?.Dispose();
        await TearDownAsync(Name, Directory);
    }

    /// <summary>Removes a running dockerd's containers, so its shutdown does not wait out each one's stop timeout.</summary>
    private static async Task RemoveContainersAsync(IDockerClient docker)
    {
        try
        {
            foreach (var container in await docker.Containers.ListContainersAsync(new ContainersListParameters { All = true }))
                await docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true });
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException or System.Net.Sockets.SocketException)
        {
        }
    }

    /// <summary>
    /// Removes every trace of a host, whether it was disposed, crashed or half made: its dockerd (SIGTERM, so it
    /// unmounts its layers), processes left in its namespace (containerd, shims, docker-proxy, agents), container
    /// processes in its cgroups, mounts under its directory, the namespace with its veth pair, and the directory.
    /// </summary>
    internal static async Task TearDownAsync(string name, string directory)
    {
        if (int.TryParse(ReadOrEmpty(Path.Combine(directory, "docker.pid")), out var dockerd) && Linux.IsAlive(dockerd))
        {
            using (var docker = new DockerClientConfiguration(new Uri("unix://" + Path.Combine(directory, "docker.sock")), defaultTimeout: TimeSpan.FromSeconds(10)).CreateClient())
                await RemoveContainersAsync(docker);
            Linux.Signal(dockerd, Linux.SigTerm);
            await Linux.WaitGoneAsync([dockerd], TimeSpan.FromSeconds(30));
        }
        if (File.Exists("/run/netns/" + name))
        {
            var pids = await ProcessRunner.RunAsync("ip", ["netns", "pids", name], null, new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
            await KillAsync(pids.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList());
        }
        var cgroups = CgroupDirectories(name).Where(d => Path.GetFileName(d) == name).SelectMany(d => System.IO.Directory.EnumerateDirectories(d, "*", SearchOption.AllDirectories).Append(d)).ToList();
        await KillAsync(cgroups.SelectMany(d => ReadOrEmpty(Path.Combine(d, "cgroup.procs")).Split('\n', StringSplitOptions.RemoveEmptyEntries)).Select(int.Parse).Distinct().ToList());
        foreach (var cgroup in cgroups.OrderByDescending(d => d.Length))
        {
            try
            {
                System.IO.Directory.Delete(cgroup);
            }
            catch (IOException)
            {
            }
        }
        if (System.IO.Directory.Exists(directory))
            Linux.UnmountUnder(directory);
        var none = new Dictionary<string, string>();
        if (File.Exists("/run/netns/" + name))
            await ProcessRunner.RunAsync("ip", ["netns", "del", name], null, none, TimeSpan.FromSeconds(30));
        // Gone with the namespace, unless something still held it open.
        var link = await ProcessRunner.RunAsync("ip", ["link", "show", name], null, none, TimeSpan.FromSeconds(30));
        if (link.ExitCode == 0)
            await ProcessRunner.RunAsync("ip", ["link", "del", name], null, none, TimeSpan.FromSeconds(30));
        try
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>Cgroup directories named with <paramref name="prefix"/> at the top of each hierarchy (cgroup v1 controllers, or v2's one).</summary>
    internal static IEnumerable<string> CgroupDirectories(string prefix)
    {
        const string root = "/sys/fs/cgroup";
        if (!System.IO.Directory.Exists(root))
            return [];
        return System.IO.Directory.EnumerateDirectories(root)
            .SelectMany(hierarchy => System.IO.Directory.EnumerateDirectories(hierarchy).Append(hierarchy))
            .Where(d => Path.GetFileName(d).StartsWith(prefix, StringComparison.Ordinal))
            .Distinct()
            .ToList();
    }

    private static async Task KillAsync(IReadOnlyCollection<int> pids)
    {
        foreach (var pid in pids)
            Linux.Signal(pid, Linux.SigKill);
        await Linux.WaitGoneAsync(pids, TimeSpan.FromSeconds(5));
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private async Task WaitForDockerAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (_dockerd!.HasExited)
                throw new InvalidOperationException($"The dockerd of {Name} exited before it answered:\n{_dockerd.Output}");
            try
            {
                await _docker!.System.PingAsync();
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or DockerApiException or TimeoutException or System.Net.Sockets.SocketException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"The dockerd of {Name} did not answer within {timeout.TotalSeconds} s:\n{_dockerd!.Output}");
    }
}
