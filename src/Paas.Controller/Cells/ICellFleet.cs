using Paas.Core.Cells;
using Paas.Core.Instances;

namespace Paas.Controller.Cells;

/// <summary>
/// The cells as the controller's core sees them (the converger, the instance manager): which are registered
/// and live, what they run, where a new instance goes, and each cell's client (<see cref="ICell"/>).
/// <see cref="CellDirectory"/> reads them from Redis and talks to agents over HTTP; the simulation tests
/// (tests/Paas.Controller.Tests/Simulation) hold them in memory.
/// </summary>
public interface ICellFleet
{
    /// <summary>How long a cell may miss its heartbeats before it counts as lost.</summary>
    TimeSpan LostAfter { get; }

    /// <summary>Every registered cell, and whether it is live.</summary>
    Task<IReadOnlyList<(CellRegistration Registration, bool Live)>> StatusAsync();

    /// <summary>Every app's instances that lost cells last reported.</summary>
    Task<IReadOnlyList<InstanceState>> OnLostCellsAsync();

    /// <summary>One app's instances that lost cells last reported.</summary>
    Task<IReadOnlyList<InstanceState>> OnLostCellsAsync(string app);

    /// <summary>The live cell of that name, or null.</summary>
    Task<ICell?> FindAsync(string name);

    /// <summary>Every instance on every live cell.</summary>
    Task<IReadOnlyList<InstanceState>> ListAsync(CancellationToken cancellationToken);

    /// <summary>One app's instances on every live cell (each cell filters: the cost follows the app's instances, not the fleet's).</summary>
    Task<IReadOnlyList<InstanceState>> ListAsync(string app, CancellationToken cancellationToken);

    /// <summary>
    /// Picks a live cell for a new instance (see <see cref="CellPlacement.Choose"/>), none of <paramref name="avoid"/>,
    /// only <paramref name="pinned"/> when given (the cell holding the process type's volume); null and the reason when none has room.
    /// </summary>
    Task<(ICell? Cell, string? Reason)> PlaceAsync(string app, long memoryBytes, IReadOnlyList<InstanceState> instances, IReadOnlyList<InstanceState> pending,
        string? preferred = null, IReadOnlySet<string>? avoid = null, string? pinned = null);
}
