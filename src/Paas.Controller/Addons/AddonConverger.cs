using Paas.Controller.Cells;
using Paas.Controller.State;

namespace Paas.Controller.Addons;

/// <summary>
/// Keeps every add-on's server running: a server that died (or was removed) is started again on its volume, on
/// the cell that holds that volume. An add-on whose cell is not live waits for it: its data lives there, and a
/// server elsewhere would start empty.
/// </summary>
public sealed class AddonConverger(IStateStore db, CellDirectory cells, AddonService addons, TimeProvider time, ILogger<AddonConverger> logger) : BackgroundService
{
    /// <summary>One listing per cell holding add-ons: cheap enough to notice a dead server within seconds.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PassAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Add-on convergence pass failed: {Error}", e.Message);
            }
            await Task.Delay(Interval, time, stoppingToken);
        }
    }

    public async Task PassAsync(CancellationToken ct)
    {
        var records = db.Addons();
        if (records.Count == 0)
            return;
        var states = await addons.StatesAsync(records, ct);
        foreach (var record in records)
        {
            if (!states.TryGetValue(record.Cell, out var onCell))
                continue;
            var state = onCell.FirstOrDefault(s => s.Id == record.Id);
            if (state is { Running: true })
                continue;
            // Created a moment ago and not yet listed: the create path owns it.
            if (state is null && time.GetUtcNow() - record.CreatedAt < TimeSpan.FromSeconds(30))
                continue;
            if (await cells.FindAsync(record.Cell) is not RemoteCell remote)
                continue;
            try
            {
                await remote.StartAddonAsync(AddonService.SpecOf(record), ct);
                var why = state is null ? "its container was gone" : $"it had exited with code {state.ExitCode}";
                db.AddEvent(record.App, "platform", "addon", $"Add-on {record.Id} started again on its volume ({why})");
            }
            catch (Exception e) when (e is CellUnavailableException or Instances.DeployException)
            {
                logger.LogWarning("Could not start add-on {Addon} again on cell {Cell}: {Error}", record.Id, record.Cell, e.Message);
            }
        }
    }
}
