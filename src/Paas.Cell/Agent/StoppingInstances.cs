using System.Collections.Concurrent;

namespace Paas.Cell.Agent;

/// <summary>Instances this agent was asked to stop, so their exit is not reported as a crash.</summary>
public sealed class StoppingInstances
{
    private readonly ConcurrentDictionary<string, byte> _ids = new();

    public void Add(string instanceId) => _ids[instanceId] = 0;

    public bool Contains(string instanceId) => _ids.ContainsKey(instanceId);

    public void Remove(string instanceId) => _ids.TryRemove(instanceId, out _);
}
