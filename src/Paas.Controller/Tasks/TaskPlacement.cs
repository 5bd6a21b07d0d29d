using Paas.Controller.Cells;
using Paas.Core.Cells;
using Paas.Core.Configuration;

namespace Paas.Controller.Tasks;

/// <summary>
/// Where staging, release phases and one-off runs go: the cell named by PAAS_STAGING_CELL when set (and live), else
/// the preferred cell when it is live (the one that staged the release, which has its image), else the live cell
/// with the most memory not reserved by running instances. On one host that is the one local cell.
/// </summary>
public sealed class TaskPlacement(CellDirectory cells, PaasSettings settings)
{
    public async Task<RemoteCell> ChooseAsync(string? preferred = null)
    {
        var live = await cells.LiveAsync();
        CellRegistration chosen;
        if (settings.StagingCell is { } pinned)
        {
            chosen = live.FirstOrDefault(r => r.Name == pinned)
                ?? throw new CellUnavailableException($"The staging cell {pinned} (PAAS_STAGING_CELL) is not live: start its agent, or unset PAAS_STAGING_CELL to stage on any cell.");
        }
        else
        {
            chosen = live.FirstOrDefault(r => r.Name == preferred) ?? Choose(live)
                ?? throw new CellUnavailableException("No cell is live to run this on: start a cell agent (`paas cells` lists them).");
        }
        return (RemoteCell)cells.Get(chosen.Name, chosen.Url);
    }

    /// <summary>The live cell with the most unreserved memory (ties by name, so the choice is stable).</summary>
    public static CellRegistration? Choose(IEnumerable<CellRegistration> live) =>
        live.OrderByDescending(r => r.MemoryBytes - r.Instances.Where(i => i.Running).Sum(i => i.MemoryLimitBytes))
            .ThenBy(r => r.Name, StringComparer.Ordinal)
            .FirstOrDefault();
}
