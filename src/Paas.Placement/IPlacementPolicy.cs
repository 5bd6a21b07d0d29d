namespace Paas.Placement;

/// <summary>Chooses the cell for one new instance; a pure function of its inputs.</summary>
public interface IPlacementPolicy
{
    /// <summary>The chosen cell's name, or null with <paramref name="reason"/> saying in one sentence why none fits.</summary>
    string? Choose(IReadOnlyList<CellCandidate> cells, long memoryBytes, out string? reason);
}
