using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Paas.Core.Cells;
using Paas.Core.Instances;

namespace Paas.Cell.Docker;

/// <summary>A cell backed by one Docker engine. Everything it knows it reads back from container labels.</summary>
public sealed class DockerCell : ICell
{
    /// <summary>Every app listens on this port inside its container; the engine publishes it on the cell's address.</summary>
    public const int ContainerPort = 5000;
    private const string AppUser = "1000:1000";
    private const string MemoryLabel = "paas.memory";
    private const string HealthCheckLabel = "paas.healthcheck";
    /// <summary>The instance's CPU cap in cores (<see cref="CpuShares.CoresForMemory"/>), so listings show it without an inspect.</summary>
    private const string CpuLabel = "paas.cpu";

    private readonly IDockerClient _docker;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _starting = new(); // instance id -> waits for its first health
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IPAddress?> _addresses = new(); // container id -> address on the engine's network
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _ports = new(); // container id -> port the app listens on, when not ContainerPort
    /// <summary>Container id → when it was last started again in place: a listing gives only its creation time, which `paas ps` would show as its start.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _restartedAt = new();
    private readonly string _platformId;
    private readonly TimeProvider _time;
    private readonly string _address;
    private readonly Paas.Core.Images.RegistryAccess? _registry;
    private long _pullFailures;

    /// <summary>Pulls that failed since this agent started (reported in its registration).</summary>
    public long PullFailures => Interlocked.Read(ref _pullFailures);

    /// <summary>The release's image as this cell's engine knows it: the digest, at the registry address this cell uses.</summary>
    public string Local(string image) => _registry?.Rehost(image) ?? image;

    /// <param name="address">Where other hosts reach this cell's instances (PAAS_CELL_ADDRESS): ports are published on it.</param>
    /// <param name="registry">How this cell reaches the image registry, when there is one.</param>
    public DockerCell(string name, IDockerClient docker, string platformId, TimeProvider time, string address = "127.0.0.1", Paas.Core.Images.RegistryAccess? registry = null)
    {
        _registry = registry;
        Name = name;
        _docker = docker;
        _platformId = platformId;
        _time = time;
        _address = address;
    }

    public string Name { get; }

    /// <summary>
    /// The cgroup parent of instance containers, null for the engine's default (PAAS_CELL_CGROUP_PARENT).
    /// With the cgroupfs driver every container shares `/docker`, one scheduling entity beside the
    /// platform's processes, and a busy loop in one instance spent the credit its neighbours' wake-ups
    /// needed: `/` makes each instance an entity of its own, weighted by its shares.
    /// </summary>
    public string? CgroupParent { get; init; }

    /// <summary>Where each start's engine calls log their milliseconds (the scale-up's seconds are mostly the engine's).</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    public async Task<bool> PrepareImageAsync(string image, Func<string, Task> progress, CancellationToken cancellationToken)
    {
        image = Local(image);
        try
        {
            await _docker.Images.InspectImageAsync(image, cancellationToken);
            return false;
        }
        catch (DockerImageNotFoundException)
        {
        }
        var at = image.IndexOf('@');
        if (at < 0)
            throw new ImageUnavailableException($"The image {image} is not on cell {Name}, and without a registry digest it cannot be pulled (set PAAS_REGISTRY on the controller).");
        var pull = new ImagePullProgress(_time);
        await progress($"pulling image on cell {Name} …");
        try
        {
            var auth = _registry is null ? null : new AuthConfig { ServerAddress = _registry.Address, Username = _registry.Username, Password = _registry.Password };
            await _docker.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = image[..at], Tag = image[(at + 1)..] }, auth, pull, cancellationToken);
        }
        catch (DockerApiException e)
        {
            Interlocked.Increment(ref _pullFailures);
            throw new ImageUnavailableException($"Pulling the image on cell {Name} failed: {ImagePullProgress.FirstLine(e.ResponseBody ?? e.Message)}.");
        }
        if (pull.Error is { } error)
        {
            Interlocked.Increment(ref _pullFailures);
            throw new ImageUnavailableException($"Pulling the image on cell {Name} failed: {error}.");
        }
        await progress($"pulled image on cell {Name} ({pull.Summary})");
        return true;
    }

    public async Task<IReadOnlyList<string>> PruneImagesAsync(string app, IReadOnlyCollection<string> keep, CancellationToken cancellationToken)
    {
        // Kept by image id: one build is a local tag on the engine that staged it and a registry digest
        // everywhere (at this cell's address for the registry), and either name keeps it.
        var keptIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var reference in keep.Where(r => r.Length > 0))
        {
            try
            {
                keptIds.Add((await _docker.Images.InspectImageAsync(Local(reference), cancellationToken)).ID);
            }
            catch (DockerImageNotFoundException)
            {
            }
        }
        // Every container counts, stopped ones too: a crashed instance is restarted from its image.
        var containers = await _docker.Containers.ListContainersAsync(new ContainersListParameters { All = true }, cancellationToken);
        var used = containers.Select(c => c.ImageID).ToHashSet(StringComparer.Ordinal);
        var repository = Paas.Staging.Buildpacks.BuildpackStager.ImageName(app);
        var images = await _docker.Images.ListImagesAsync(new ImagesListParameters
        {
            All = false,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"{ContainerLabels.Platform}={_platformId}"] = true },
            },
        }, cancellationToken);
        var removed = new List<string>();
        foreach (var image in images)
        {
            var names = (image.RepoTags ?? []).Concat(image.RepoDigests ?? []).Where(n => RepositoryOf(n) == repository).ToList();
            if (names.Count == 0 || keptIds.Contains(image.ID) || used.Contains(image.ID))
                continue;
            try
            {
                // By id, forced: an image pulled by digest and also tagged has several names, all of them this app's.
                await _docker.Images.DeleteImageAsync(image.ID, new ImageDeleteParameters { Force = true }, cancellationToken);
                removed.AddRange(names);
            }
            catch (DockerApiException)
            {
                // A container started from it since the listing, or another prune removed it: the next pass decides.
            }
        }
        return removed;
    }

    /// <summary>`paas/app-x` of `REG:5000/paas/app-x@sha256:…`, `paas/app-x:v3` or `localhost/paas/app-x:v3`.</summary>
    private static string RepositoryOf(string name)
    {
        var end = name.IndexOf('@');
        if (end < 0)
        {
            var colon = name.LastIndexOf(':');
            end = colon > name.LastIndexOf('/') ? colon : name.Length;
        }
        name = name[..end];
        var slash = name.IndexOf('/');
        if (slash > 0 && name[..slash] is var first && (first.Contains('.') || first.Contains(':') || first == "localhost"))
            name = name[(slash + 1)..];
        return name;
    }

    public async Task<InstanceState> StartAsync(InstanceSpec spec, CancellationToken cancellationToken)
    {
        // A Dockerfile or prebuilt image brings its own command, user, directory and port (its labels say so,
        // checked at staging: never root unless allowed); a buildpack image runs Heroku's way.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var imageConfig = (await _docker.Images.InspectImageAsync(Local(spec.Image), cancellationToken)).Config;
        var labels = imageConfig?.Labels;
        var own = labels is not null && labels.ContainsKey(DockerImageContract.BuilderLabel);
        var port = own && labels!.TryGetValue(DockerImageContract.PortLabel, out var p) && int.TryParse(p, CultureInfo.InvariantCulture, out var parsed) ? parsed : ContainerPort;
        var portKey = $"{port}/tcp";
        var env = new List<string>(spec.Environment.Select(kv => $"{kv.Key}={kv.Value}"))
        {
            $"PORT={port}",
            $"PS={spec.Process}.{spec.Index}",
            $"DYNO={spec.Process}.{spec.Index}",
        };
        if (!own)
            env.Add("HOME=/app");
        var network = await Paas.Staging.Containers.IsolatedNetworkSetup.EnsureAsync(_docker);
        var mounts = spec.Mounts.Count == 0 ? null
            : await AppVolumes.PrepareAsync(_docker, _platformId, spec, own ? AppVolumes.NumericUser(imageConfig?.User) : (1000u, 1000u), cancellationToken);
        var cores = CpuShares.CoresForMemory(spec.MemoryBytes, Environment.ProcessorCount);
        var parameters = new CreateContainerParameters
        {
            Name = ContainerName(spec.InstanceId),
            Image = Local(spec.Image),
            User = own ? null : AppUser,
            WorkingDir = own ? null : "/app",
            Env = env,
            // Heroku runs each process through a shell after sourcing .profile.d, which buildpacks use to set PATH and friends.
            // The command runs in its own `bash -c`, as on Heroku, so "a && b" works, while a single command is
            // exec'd by bash and receives SIGTERM itself. An image's own web process is its ENTRYPOINT/CMD as built;
            // its other process types (a Procfile) run through /bin/sh.
            Cmd = own
                ? spec.Process == "web" ? null : ["/bin/sh", "-c", spec.Command]
                : ["/bin/bash", "-c", "for f in /app/.profile.d/*.sh; do [ -r \"$f\" ] && . \"$f\"; done; exec /bin/bash -c \"$1\"", "paas-launch", spec.Command],
            Entrypoint = own && spec.Process != "web" ? [] : null,
            ExposedPorts = new Dictionary<string, EmptyStruct> { [portKey] = default },
            Labels = new Dictionary<string, string>
            {
                [ContainerLabels.Platform] = _platformId,
                [ContainerLabels.Role] = "instance",
                [ContainerLabels.Cell] = Name,
                [ContainerLabels.App] = spec.App,
                [ContainerLabels.Release] = spec.Release.ToString(CultureInfo.InvariantCulture),
                [ContainerLabels.Process] = spec.Process,
                [ContainerLabels.Index] = spec.Index.ToString(CultureInfo.InvariantCulture),
                [ContainerLabels.Instance] = spec.InstanceId,
                [MemoryLabel] = spec.MemoryBytes.ToString(CultureInfo.InvariantCulture),
                [HealthCheckLabel] = spec.HealthCheck is null ? "" : JsonSerializer.Serialize(spec.HealthCheck),
                [DockerImageContract.PortLabel] = port.ToString(CultureInfo.InvariantCulture),
                [CpuLabel] = cores.ToString("0.##", CultureInfo.InvariantCulture),
            },
            HostConfig = new HostConfig
            {
                PortBindings = new Dictionary<string, IList<PortBinding>>
                {
                    [portKey] = [new PortBinding { HostIP = _address, HostPort = "" }],
                },
                NetworkMode = network,
                Mounts = mounts,
                CgroupParent = CgroupParent,
                Memory = spec.MemoryBytes,
                MemorySwap = spec.MemoryBytes,
                // A weight, not a cap: idle cores stay usable, but a busy loop cannot take a neighbour's share.
                // Boosted to at least a default process's weight until the first health check passes (see
                // CpuShares.StartupShares), as the cap below is lifted until then.
                CPUShares = spec.HealthCheck is null ? CpuShares.ForMemory(spec.MemoryBytes) : CpuShares.StartupShares(spec.MemoryBytes),
                // And a cap, set once the first health check passes when there is one (a start-up boost, as
                // Kubernetes' startup CPU boost does): a capped start of 0.1 s of CPU took 0.4 s at a quarter core,
                // and every such second is a second a crashed slot or a scale-up is not serving.
                CPUPeriod = spec.HealthCheck is null ? CapPeriodMicroseconds : 0,
                CPUQuota = spec.HealthCheck is null ? CapQuota(cores) : 0,
                PidsLimit = 256,
                Privileged = false,
                CapDrop = ["ALL"],
                SecurityOpt = ["no-new-privileges"],
                // tini as PID 1 forwards SIGTERM to the app and reaps zombies, so stops are quick and clean.
                Init = true,
            },
        };
        var prepared = clock.ElapsedMilliseconds;
        var created = await _docker.Containers.CreateContainerAsync(parameters, cancellationToken);
        var createdAt = clock.ElapsedMilliseconds;
        _ports[created.ID] = port;
        try
        {
            await _docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), cancellationToken);
            var startedAt = clock.ElapsedMilliseconds;
            var inspected = await _docker.Containers.InspectContainerAsync(created.ID, cancellationToken);
            Logger.LogInformation("Started {Instance}: prepared at {Prepared} ms, created at {Created} ms, started at {Started} ms, inspected at {Inspected} ms",
                spec.InstanceId, prepared, createdAt, startedAt, clock.ElapsedMilliseconds);
            return ToState(inspected.ID, inspected.Config.Labels, inspected.State.Running, AddressOf(inspected.NetworkSettings?.Ports), ParseTime(inspected.State.StartedAt)) with
            {
                MemoryLimitBytes = spec.MemoryBytes,
                CpuCores = cores,
            };
        }
        catch
        {
            await RemoveQuietlyAsync(created.ID);
            throw;
        }
    }

    /// <summary>
    /// Starts the exited container of a crashed instance again (see <see cref="ICell.RestartAsync"/>): no image
    /// inspect, no create, no network set-up of a new container; the engine's start is what is left. Null when
    /// the container is gone, already running, or of another size.
    /// </summary>
    public async Task<InstanceState?> RestartAsync(string instanceId, long memoryBytes, CancellationToken cancellationToken)
    {
        ContainerInspectResponse inspected;
        try
        {
            inspected = await _docker.Containers.InspectContainerAsync(ContainerName(instanceId), cancellationToken);
            if (inspected.State.Running || inspected.State.Restarting
                || inspected.Config.Labels?.TryGetValue(MemoryLabel, out var made) != true || made != memoryBytes.ToString(CultureInfo.InvariantCulture))
                return null;
            // Its address on the engine's network and its published port may change with the start.
            _addresses.TryRemove(inspected.ID, out _);
            // The start-up boost again (see StartAsync): the shares and cap set after its first healthy check is lifted for the
            // restart and set again after the next one (CapCpuAsync). Capped, the app's own start took 0.3 s longer.
            if (inspected.Config.Labels.TryGetValue(HealthCheckLabel, out var check) && check.Length > 0 && inspected.HostConfig?.CPUQuota > 0)
                await _docker.Containers.UpdateContainerAsync(inspected.ID, new ContainerUpdateParameters
                {
                    CPUPeriod = CapPeriodMicroseconds,
                    CPUQuota = CapQuota(Environment.ProcessorCount),
                    CPUShares = CpuShares.StartupShares(memoryBytes),
                }, cancellationToken);
            await _docker.Containers.StartContainerAsync(inspected.ID, new ContainerStartParameters(), cancellationToken);
            inspected = await _docker.Containers.InspectContainerAsync(inspected.ID, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
            return null;
        }
        var labels = inspected.Config.Labels;
        _restartedAt[inspected.ID] = ParseTime(inspected.State.StartedAt);
        return ToState(inspected.ID, labels, inspected.State.Running, AddressOf(inspected.NetworkSettings?.Ports), ParseTime(inspected.State.StartedAt)) with
        {
            MemoryLimitBytes = labels.TryGetValue(MemoryLabel, out var memory) && long.TryParse(memory, CultureInfo.InvariantCulture, out var limit) ? limit : 0,
            CpuCores = labels.TryGetValue(CpuLabel, out var cpu) && double.TryParse(cpu, NumberStyles.Float, CultureInfo.InvariantCulture, out var cores) ? cores : null,
        };
    }

    /// <summary>
    /// Whether the controller is still waiting for this instance's first healthy check (its start-up
    /// grace). The liveness monitor leaves such an instance alone: it is starting, not failing.
    /// </summary>
    public bool IsStarting(string instanceId) => _starting.ContainsKey(instanceId);

    public async Task<HealthResult> WaitHealthyAsync(InstanceState instance, HealthCheckSpec check, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _starting.AddOrUpdate(instance.InstanceId, 1, (_, waiters) => waiters + 1);
        try
        {
            return await WaitFirstHealthyAsync(instance, check, timeout, cancellationToken);
        }
        finally
        {
            // Removed only while no other wait for it has begun (a removal matches the value too).
            _starting.AddOrUpdate(instance.InstanceId, 0, (_, waiters) => waiters - 1);
            _starting.TryRemove(new KeyValuePair<string, int>(instance.InstanceId, 0));
        }
    }

    /// <summary>
    /// How often an instance is checked while it starts, until its first success (Diego's start-up check
    /// polls as fast): it is not routed before, so every interval spent waiting is time a crashed slot or a
    /// scale-up stays short. A check is a TCP connect or a GET from this agent, cheap enough at this rate.
    /// </summary>
    public static readonly TimeSpan StartupPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// How often, while it starts, the engine is asked whether the process still runs. Apart from the
    /// checks: an engine call per check, for twenty instances starting at once, was 400 calls a second to
    /// an engine that is busy starting them.
    /// </summary>
    public static readonly TimeSpan StartupInspect = TimeSpan.FromMilliseconds(500);

    private async Task<HealthResult> WaitFirstHealthyAsync(InstanceState instance, HealthCheckSpec check, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + timeout;
        ContainerInspectResponse? inspected = null;
        var inspectedAt = DateTimeOffset.MinValue;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long firstInspect = -1;
        var checks = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (inspected is null || _time.GetUtcNow() - inspectedAt >= StartupInspect)
            {
                inspected = await _docker.Containers.InspectContainerAsync(instance.ContainerId, cancellationToken);
                inspectedAt = _time.GetUtcNow();
                if (firstInspect < 0)
                    firstInspect = clock.ElapsedMilliseconds;
                if (!inspected.State.Running)
                    return Exited(inspected);
            }
            checks++;
            if (await CheckOnceAsync(inspected.ID, AddressOn(inspected), check, cancellationToken))
            {
                // Not awaited: the cap is an engine call (40-780 ms measured while twenty instances started on a
                // busy engine) that the instance's routing need not wait for; until it lands the start-up boost lasts.
                _ = CapCpuAsync(inspected);
                Logger.LogInformation("Healthy {Instance}: first inspect at {Inspect} ms, passed check {Checks} at {Passed} ms",
                    instance.InstanceId, firstInspect, checks, clock.ElapsedMilliseconds);
                return HealthResult.Ok;
            }
            if (_time.GetUtcNow() >= deadline)
            {
                // Ask once more, so a process that exited meanwhile is reported as such rather than as silent.
                inspected = await _docker.Containers.InspectContainerAsync(instance.ContainerId, cancellationToken);
                if (!inspected.State.Running)
                    return Exited(inspected);
                return HealthResult.Failed(check.Type == HealthCheckSpec.Http
                    ? $"GET {check.Path} on $PORT did not answer 2xx or 3xx within {timeout.TotalSeconds:0} s"
                    : $"the process did not listen on $PORT ({PortOf(inspected.ID)}) within {timeout.TotalSeconds:0} s");
            }
            await Task.Delay(StartupPoll, _time, cancellationToken);
        }
    }

    /// <summary>
    /// The CFS period of the cap: 10 ms, not the kernel's (and NanoCPUs') 100 ms. A capped busy loop runs in bursts of
    /// its quota per period with every core it can take; at 100 ms a quarter core is 25 ms bursts on both cores, and a
    /// neighbour's request that lands in one waits it out (its median latency through the router 2.2x its idle value,
    /// measured on a quiet machine), where 2.5 ms bursts cost it little. Kubernetes users lower the period for the
    /// same reason (cpu-cfs-quota-period).
    /// </summary>
    public const long CapPeriodMicroseconds = 10_000;

    private static long CapQuota(double cores) => (long)(cores * CapPeriodMicroseconds);

    /// <summary>
    /// Sets the CPU cap the container's label records and the shares its memory earns, now that it has
    /// started (both were lifted for the start: see <see cref="StartAsync"/>).
    /// </summary>
    private async Task CapCpuAsync(ContainerInspectResponse inspected)
    {
        var labels = inspected.Config?.Labels;
        if (labels?.TryGetValue(CpuLabel, out var label) != true
            || !double.TryParse(label, NumberStyles.Float, CultureInfo.InvariantCulture, out var cores)
            || !labels.TryGetValue(MemoryLabel, out var memoryLabel)
            || !long.TryParse(memoryLabel, NumberStyles.Integer, CultureInfo.InvariantCulture, out var memory))
            return;
        var shares = CpuShares.ForMemory(memory);
        if (inspected.HostConfig?.CPUQuota == CapQuota(cores) && inspected.HostConfig?.CPUPeriod == CapPeriodMicroseconds && inspected.HostConfig?.CPUShares == shares)
            return;
        try
        {
            // Not the wait's token: the cap outlives the wait that asked for it.
            await _docker.Containers.UpdateContainerAsync(inspected.ID, new ContainerUpdateParameters
            {
                CPUPeriod = CapPeriodMicroseconds,
                CPUQuota = CapQuota(cores),
                CPUShares = shares,
            }, CancellationToken.None);
        }
        catch (DockerContainerNotFoundException)
        {
            // Gone since the check: its die event replaces it.
        }
        catch (Exception e)
        {
            Logger.LogWarning("Could not set the CPU cap of {Container}: {Reason}", inspected.ID, e.Message);
        }
    }

    private static HealthResult Exited(ContainerInspectResponse inspected) =>
        HealthResult.Failed($"the process exited with code {inspected.State.ExitCode}{(inspected.State.OOMKilled ? " after running out of memory" : "")} before it became healthy");

    /// <summary>One check of a running instance (the liveness monitor's), at its address on the engine's network.</summary>
    public async Task<bool> CheckOnceAsync(string containerId, HealthCheckSpec check, CancellationToken cancellationToken)
    {
        IPAddress? address;
        if (!_addresses.TryGetValue(containerId, out address))
        {
            try
            {
                address = AddressOn(await _docker.Containers.InspectContainerAsync(containerId, cancellationToken));
            }
            catch (DockerContainerNotFoundException)
            {
                return false;
            }
        }
        return await CheckOnceAsync(containerId, address, check, cancellationToken);
    }

    /// <summary>
    /// One check, from this agent straight to the container's address on the engine's network (the agent
    /// runs in the engine's network namespace): a TCP connect, or a GET answering 2xx/3xx. Not through the
    /// published port, whose proxy on the host accepts connections even when nothing listens in the
    /// container, and not by `docker exec` (a process spawned in the container, 100-500 ms of engine work
    /// per check on a busy host). A container without such an address is checked by exec as before.
    /// </summary>
    private async Task<bool> CheckOnceAsync(string containerId, IPAddress? address, HealthCheckSpec check, CancellationToken cancellationToken)
    {
        if (address is null)
            return await CheckByExecAsync(containerId, check, cancellationToken);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, check.TimeoutSeconds)));
        try
        {
            if (check.Type != HealthCheckSpec.Http)
            {
                using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(address, PortOf(containerId), bounded.Token);
                return true;
            }
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{new IPEndPoint(address, PortOf(containerId))}{check.Path ?? "/"}");
            request.Headers.ConnectionClose = true;
            using var response = await HealthClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, bounded.Token);
            return (int)response.StatusCode is >= 200 and < 400;
        }
        catch (Exception e) when (e is SocketException or HttpRequestException or IOException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>Redirects are answers (2xx or 3xx pass), and each check opens its own connection (a kept one would prove nothing).</summary>
    private static readonly HttpClient HealthClient = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.Zero,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>The container's address on the isolated network, remembered per container (it keeps it while it runs).</summary>
    private IPAddress? AddressOn(ContainerInspectResponse inspected)
    {
        if (_addresses.TryGetValue(inspected.ID, out var known))
            return known;
        _ports[inspected.ID] = PortOf(inspected.Config?.Labels);
        var networks = inspected.NetworkSettings?.Networks;
        var endpoint = networks is null ? null
            : networks.TryGetValue(Paas.Core.Instances.IsolatedNetwork.Name, out var isolated) ? isolated
            : networks.Values.FirstOrDefault();
        var address = endpoint is not null && IPAddress.TryParse(endpoint.IPAddress, out var parsed) ? parsed : null;
        if (address is not null)
            _addresses[inspected.ID] = address;
        return address;
    }

    /// <summary>The port an instance's app listens on: its image's (<see cref="DockerImageContract.PortLabel"/>, copied onto the container), else $PORT's default.</summary>
    private static int PortOf(IDictionary<string, string>? labels) =>
        labels is not null && labels.TryGetValue(DockerImageContract.PortLabel, out var p) && int.TryParse(p, CultureInfo.InvariantCulture, out var port) ? port : ContainerPort;

    private int PortOf(string containerId) => _ports.TryGetValue(containerId, out var port) ? port : ContainerPort;

    /// <summary>The check run inside the container's network namespace, for a container with no address the agent can reach.</summary>
    private async Task<bool> CheckByExecAsync(string containerId, HealthCheckSpec check, CancellationToken cancellationToken)
    {
        var script = check.Type == HealthCheckSpec.Http
            ? $"exec curl -fsS -o /dev/null --max-time {Math.Max(1, check.TimeoutSeconds)} \"http://127.0.0.1:{PortOf(containerId)}$1\""
            : $"exec 3<>/dev/tcp/127.0.0.1/{PortOf(containerId)}";
        try
        {
            var exec = await _docker.Exec.ExecCreateContainerAsync(containerId, new ContainerExecCreateParameters
            {
                Cmd = ["/bin/bash", "-c", script, "health", check.Path ?? "/"],
                User = AppUser,
                AttachStdout = true,
                AttachStderr = true,
            }, cancellationToken);
            using (var stream = await _docker.Exec.StartAndAttachContainerExecAsync(exec.ID, false, cancellationToken))
                await stream.ReadOutputToEndAsync(cancellationToken);
            var result = await _docker.Exec.InspectContainerExecAsync(exec.ID, cancellationToken);
            return result.ExitCode == 0;
        }
        catch (DockerApiException)
        {
            // The container stopped between inspect and exec; the caller's next inspect reports why.
            return false;
        }
    }

    public async Task StopAsync(string instanceId, TimeSpan grace, CancellationToken cancellationToken)
    {
        var name = ContainerName(instanceId);
        try
        {
            await _docker.Containers.StopContainerAsync(name, new ContainerStopParameters { WaitBeforeKillSeconds = (uint)Math.Max(1, grace.TotalSeconds) }, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
            return;
        }
        await RemoveQuietlyAsync(name);
    }

    /// <summary>Release images of this platform on the engine (built here, or pulled by digest), by their labels.</summary>
    public async Task<int> CountImagesAsync(CancellationToken cancellationToken) =>
        (await _docker.Images.ListImagesAsync(new ImagesListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"{ContainerLabels.Platform}={_platformId}"] = true, [ContainerLabels.App] = true },
            },
        }, cancellationToken)).Count;

    public Task<IReadOnlyList<InstanceState>> ListAsync(CancellationToken cancellationToken) => ListMatchingAsync(null, cancellationToken);

    /// <summary>One app's instances: the engine filters by the app's label, so other apps' exited containers are not inspected nor their memory read.</summary>
    public Task<IReadOnlyList<InstanceState>> ListAsync(string app, CancellationToken cancellationToken) => ListMatchingAsync(app, cancellationToken);

    private async Task<IReadOnlyList<InstanceState>> ListMatchingAsync(string? app, CancellationToken cancellationToken)
    {
        var labels = new Dictionary<string, bool>
        {
            [$"{ContainerLabels.Platform}={_platformId}"] = true,
            [$"{ContainerLabels.Role}=instance"] = true,
            [$"{ContainerLabels.Cell}={Name}"] = true,
        };
        if (app is not null)
            labels[$"{ContainerLabels.App}={app}"] = true;
        var containers = await _docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = labels },
        }, cancellationToken);
        var states = new List<InstanceState>(containers.Count);
        foreach (var c in containers)
        {
            var since = c.State == "running" && _restartedAt.TryGetValue(c.ID, out var restarted) ? restarted : new DateTimeOffset(c.Created, TimeSpan.Zero);
            var state = ToState(c.ID, c.Labels, c.State == "running", AddressOf(c.Ports), since) with
            {
                MemoryLimitBytes = c.Labels.TryGetValue(MemoryLabel, out var memory) && long.TryParse(memory, out var limit) ? limit : 0,
                CpuCores = c.Labels.TryGetValue(CpuLabel, out var cpu) && double.TryParse(cpu, NumberStyles.Float, CultureInfo.InvariantCulture, out var cores) ? cores : null,
                MemoryUsedBytes = c.State == "running" ? MemoryUsed(c.ID, CgroupParent) : 0,
                HealthCheck = c.Labels.TryGetValue(HealthCheckLabel, out var check) && check.Length > 0 ? JsonSerializer.Deserialize<HealthCheckSpec>(check) : null,
            };
            if (!state.Running)
            {
                // Only an exited container needs the detail (exit code, killed for memory?); the list lacks it.
                try
                {
                    var inspected = await _docker.Containers.InspectContainerAsync(c.ID, cancellationToken);
                    // Since is the start of the run that ended: with the instance id it names this crash (a container
                    // restarted in place crashes again under the same id), and it is the run's uptime.
                    state = state with { ExitCode = inspected.State.ExitCode, OomKilled = inspected.State.OOMKilled, Since = ParseTime(inspected.State.StartedAt) };
                }
                catch (DockerContainerNotFoundException)
                {
                    continue;
                }
            }
            states.Add(state);
        }
        // Addresses are remembered only for containers that still run (a restarted one may get another); one
        // app's listing does not see the others', so only a full listing forgets.
        if (app is null)
        {
            foreach (var gone in _addresses.Keys.Except(states.Where(i => i.Running).Select(i => i.ContainerId)).ToList())
                _addresses.TryRemove(gone, out _);
            foreach (var gone in _restartedAt.Keys.Except(states.Select(i => i.ContainerId)).ToList())
                _restartedAt.TryRemove(gone, out _);
        }
        return states;
    }

    /// <summary>
    /// How many of this cell's instances run: one engine query, for the capacity check of every start (a
    /// full <see cref="ListAsync"/> inspects each exited container, and twenty parallel starts made twenty of those).
    /// </summary>
    public async Task<int> CountRunningAsync(CancellationToken cancellationToken) =>
        (await _docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool>
                {
                    [$"{ContainerLabels.Platform}={_platformId}"] = true,
                    [$"{ContainerLabels.Role}=instance"] = true,
                    [$"{ContainerLabels.Cell}={Name}"] = true,
                },
                ["status"] = new Dictionary<string, bool> { ["running"] = true },
            },
        }, cancellationToken)).Count;

    private InstanceState ToState(string containerId, IDictionary<string, string> labels, bool running, string? address, DateTimeOffset since) =>
        new(
            InstanceId: labels.TryGetValue(ContainerLabels.Instance, out var id) ? id : containerId,
            ContainerId: containerId,
            App: labels.TryGetValue(ContainerLabels.App, out var app) ? app : "",
            Release: labels.TryGetValue(ContainerLabels.Release, out var r) && int.TryParse(r, out var release) ? release : 0,
            Process: labels.TryGetValue(ContainerLabels.Process, out var p) ? p : "",
            Index: labels.TryGetValue(ContainerLabels.Index, out var i) && int.TryParse(i, out var index) ? index : 0,
            Cell: Name,
            Running: running,
            Address: address,
            Since: since);

    private string? AddressOf(IDictionary<string, IList<PortBinding>>? ports) =>
        // The one published port: $PORT's, or the one the image EXPOSEs (an image may expose others, unpublished).
        ports?.Values.Select(bindings => bindings?.FirstOrDefault(b => !string.IsNullOrEmpty(b.HostPort))).FirstOrDefault(b => b is not null) is { } b
            ? $"{_address}:{b.HostPort}"
            : null;

    private string? AddressOf(IList<Port>? ports) =>
        ports?.FirstOrDefault(p => p.PublicPort != 0) is { } p
            ? $"{_address}:{p.PublicPort}"
            : null;

    private static DateTimeOffset ParseTime(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : DateTimeOffset.UnixEpoch;

    /// <summary>Read from the cgroup (v1 or v2) rather than `docker stats`, which takes a second per container.</summary>
    private static long MemoryUsed(string containerId, string? cgroupParent)
    {
        var parent = cgroupParent is null ? "docker" : cgroupParent.Trim('/');
        var v1 = parent.Length == 0 ? $"/sys/fs/cgroup/memory/{containerId}" : $"/sys/fs/cgroup/memory/{parent}/{containerId}";
        foreach (var path in new[] { $"{v1}/memory.usage_in_bytes", $"/sys/fs/cgroup/system.slice/docker-{containerId}.scope/memory.current" })
        {
            try
            {
                if (File.Exists(path) && long.TryParse(File.ReadAllText(path).Trim(), out var used))
                    return used;
            }
            catch (IOException)
            {
            }
        }
        return 0;
    }

    public static string ContainerName(string instanceId) => "paas-" + instanceId;

    private async Task RemoveQuietlyAsync(string idOrName)
    {
        try
        {
            await _docker.Containers.RemoveContainerAsync(idOrName, new ContainerRemoveParameters { Force = true }, CancellationToken.None);
        }
        catch (DockerContainerNotFoundException)
        {
        }
    }
}
