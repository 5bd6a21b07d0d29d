using Paas.Core.Cells;

namespace Paas.Controller.Cells;

/// <summary>
/// The cells' reports that an instance died, delivered to the converger as they arrive. <see cref="RedisCellEvents"/>
/// listens on the Redis channel the agents publish to; the simulation raises them itself.
/// </summary>
public interface ICellEvents
{
    /// <summary>Calls <paramref name="handler"/> for each event from now on (it may run concurrently with others).</summary>
    Task SubscribeAsync(Func<CellEvent, Task> handler);
}
