using Paas.Core.Cells;
using Paas.Core.Instances;

namespace Paas.Core.Tests.Placement;

/// <summary>An in-memory cell for simulations: it records what it was asked to run and never touches an engine.</summary>
public sealed class FakeCell(string name, string zone, long memoryBytes, int maxInstances) : ICell
{
    private readonly List<InstanceState> _instances = [];

    public string Name { get; } = name;
    public string Zone { get; } = zone;
    public long MemoryBytes { get; } = memoryBytes;
    public int MaxInstances { get; } = maxInstances;
    public IReadOnlyList<InstanceState> Instances => _instances;

    public Task<InstanceState> StartAsync(InstanceSpec spec, CancellationToken cancellationToken)
    {
        if (_instances.Sum(i => i.MemoryLimitBytes) + spec.MemoryBytes > MemoryBytes)
            throw new InvalidOperationException($"{Name} over-committed: placement let {spec.InstanceId} exceed its memory.");
        var state = new InstanceState(spec.InstanceId, "c-" + spec.InstanceId, spec.App, spec.Release, spec.Process, spec.Index, Name, true, "127.0.0.1:1", DateTimeOffset.UnixEpoch)
        {
            MemoryLimitBytes = spec.MemoryBytes,
        };
        _instances.Add(state);
        return Task.FromResult(state);
    }

    public Task<HealthResult> WaitHealthyAsync(InstanceState instance, HealthCheckSpec check, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.FromResult(HealthResult.Ok);

    public Task StopAsync(string instanceId, TimeSpan grace, CancellationToken cancellationToken)
    {
        _instances.RemoveAll(i => i.InstanceId == instanceId);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<InstanceState>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<InstanceState>>(_instances.ToList());
}
