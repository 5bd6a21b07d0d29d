using Paas.Controller.Cells;
using Paas.Core.Cells;
using Paas.Core.Instances;

namespace Paas.Controller.Tests.Simulation;

/// <summary>
/// A cell held in memory: instances start at once (or when <see cref="BeforeStart"/> lets them), pass their
/// health check unless <see cref="Healthy"/> says not, crash when the test says so, and vanish with the cell
/// when it is cut off (<see cref="Reachable"/> false: every call fails as an unreachable agent's would).
/// </summary>
public sealed class SimCell(string name, TimeProvider time) : ICell
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (InstanceState State, string Image)> _instances = new(StringComparer.Ordinal);
    private int _nextPort = 20000;
    private int _starts;

    public string Name => name;
    public long MemoryBytes { get; init; } = 64L * 1024 * 1024 * 1024;
    public int MaxInstances { get; init; } = 10_000;

    /// <summary>False while the cell is cut off from the controller (its instances keep running).</summary>
    public volatile bool Reachable = true;

    /// <summary>Runs before each start (a slow start, or something that happens meanwhile); the start fails if the cell is cut off by then.</summary>
    public Func<InstanceSpec, Task>? BeforeStart { get; set; }

    /// <summary>Whether a started instance passes its first health check (by default every one does).</summary>
    public Func<InstanceSpec, string, bool> Healthy { get; set; } = (_, _) => true;

    /// <summary>Instances created and started here so far.</summary>
    public int Starts => Volatile.Read(ref _starts);

    /// <summary>Exited instances started again in place here so far.</summary>
    public int Restarts => Volatile.Read(ref _restarts);
    private int _restarts;

    public Task<InstanceState?> RestartAsync(string instanceId, long memoryBytes, CancellationToken cancellationToken)
    {
        Check();
        lock (_gate)
        {
            if (!_instances.TryGetValue(instanceId, out var found) || found.State.Running || found.State.MemoryLimitBytes != memoryBytes)
                return Task.FromResult<InstanceState?>(null);
            // A new run: its start time names its next crash apart from the last one, as the engine's StartedAt
            // (in nanoseconds) does, even when the manual clock has not moved since the last start.
            var now = time.GetUtcNow();
            var since = now > found.State.Since ? now : found.State.Since.AddTicks(1);
            var state = found.State with { Running = true, ExitCode = null, OomKilled = false, Since = since, Address = $"{name}:{_nextPort++}" };
            _instances[instanceId] = (state, found.Image);
            Interlocked.Increment(ref _restarts);
            return Task.FromResult<InstanceState?>(state);
        }
    }

    public async Task<InstanceState> StartAsync(InstanceSpec spec, CancellationToken cancellationToken)
    {
        Check();
        if (BeforeStart is { } before)
            await before(spec);
        Check();
        lock (_gate)
        {
            var state = new InstanceState(spec.InstanceId, "c-" + spec.InstanceId, spec.App, spec.Release, spec.Process, spec.Index, name, true,
                $"{name}:{_nextPort++}", time.GetUtcNow()) { MemoryLimitBytes = spec.MemoryBytes, HealthCheck = spec.HealthCheck };
            _instances[spec.InstanceId] = (state, spec.Image);
            Interlocked.Increment(ref _starts);
            return state;
        }
    }

    public Task<HealthResult> WaitHealthyAsync(InstanceState instance, HealthCheckSpec check, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Check();
        lock (_gate)
        {
            if (!_instances.TryGetValue(instance.InstanceId, out var found) || !found.State.Running)
                return Task.FromResult(HealthResult.Failed("the process exited"));
            var spec = new InstanceSpec(instance.InstanceId, instance.App, instance.Release, instance.Process, instance.Index, found.Image, "", new Dictionary<string, string>(), instance.MemoryLimitBytes);
            return Task.FromResult(Healthy(spec, found.Image) ? HealthResult.Ok : HealthResult.Failed("no answer on its port"));
        }
    }

    public Task StopAsync(string instanceId, TimeSpan grace, CancellationToken cancellationToken)
    {
        Check();
        lock (_gate)
            _instances.Remove(instanceId);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<InstanceState>> ListAsync(CancellationToken cancellationToken)
    {
        Check();
        return Task.FromResult(Instances);
    }

    /// <summary>What runs (or ran) here, as the engine would report it, whether or not the controller can reach the cell.</summary>
    public IReadOnlyList<InstanceState> Instances
    {
        get
        {
            lock (_gate)
                return _instances.Values.Select(v => v.State).ToList();
        }
    }

    public string ImageOf(string instanceId)
    {
        lock (_gate)
            return _instances[instanceId].Image;
    }

    /// <summary>The process exits on its own; the event the agent would publish.</summary>
    public CellEvent Crash(string instanceId, long exitCode = 1)
    {
        lock (_gate)
        {
            var (state, image) = _instances[instanceId];
            _instances[instanceId] = (state with { Running = false, ExitCode = exitCode }, image);
            return new CellEvent(name, instanceId, state.App, state.Process, state.Index, state.Release, exitCode, false, time.GetUtcNow()) { StartedAt = state.Since };
        }
    }

    private void Check()
    {
        if (!Reachable)
            throw new CellUnavailableException($"Cell {name} at sim://{name} is unreachable: connection refused");
    }
}
