using Paas.Core.Cells;
using Paas.Core.Instances;
using Paas.Placement;

namespace Paas.Controller.Instances;

/// <summary>The cells this controller places instances on, and the placement policy that picks among them.</summary>
public sealed class CellPool(IReadOnlyList<ICell> cells, IPlacementPolicy policy, long cellMemoryCapacityBytes)
{
    public IReadOnlyList<ICell> Cells => cells;

    public ICell Get(string name) => cells.First(c => c.Name == name);

    public async Task<IReadOnlyList<InstanceState>> ListAsync(CancellationToken cancellationToken)
    {
        var all = new List<InstanceState>();
        foreach (var cell in cells)
            all.AddRange(await cell.ListAsync(cancellationToken));
        return all;
    }

    public async Task<ICell> PlaceAsync(string app, long memoryBytes, CancellationToken cancellationToken)
    {
        var instances = await ListAsync(cancellationToken);
        var candidates = cells.Select(c =>
        {
            var onCell = instances.Where(i => i.Cell == c.Name && i.Running).ToList();
            return new CellCandidate(c.Name, "default", cellMemoryCapacityBytes, onCell.Count * memoryBytes, onCell.Count(i => i.App == app));
        }).ToList();
        var chosen = policy.Choose(candidates, memoryBytes, out var reason)
            ?? throw new DeployException($"No cell can run another instance of {app}: {reason}.");
        return Get(chosen);
    }
}
