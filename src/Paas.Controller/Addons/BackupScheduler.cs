using Paas.Controller.State;
using Paas.Core.Addons;

namespace Paas.Controller.Addons;

/// <summary>
/// Runs the daily PostgreSQL backups on the leading controller: every <see cref="Interval"/> it asks each scheduled
/// add-on's <see cref="BackupSchedule.Due"/> on the injected clock, captures the due ones (marked scheduled), then
/// prunes that app's scheduled backups beyond the retention. The run is recorded before the capture, so a failing
/// server is tried once per day, not every pass; the failure goes to `paas events`.
/// </summary>
public sealed class BackupScheduler(IStateStore db, IScheduledBackups backups, TimeProvider time, ILogger<BackupScheduler> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await PassAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Backup schedule pass failed: {Error}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One look at every schedule; returns how many backups it captured.</summary>
    public async Task<int> PassAsync(CancellationToken ct)
    {
        var captured = 0;
        foreach (var record in db.Addons().Where(a => a.Kind == AddonKind.Postgresql.Name && a.BackupSchedule is not null))
        {
            var schedule = record.BackupSchedule!;
            if (schedule.Due(time.GetUtcNow()) is not { } due)
                continue;
            db.SaveAddon(record with { BackupSchedule = schedule with { LastRun = time.GetUtcNow() } });
            try
            {
                var backup = await backups.CaptureAsync(record.App, "scheduler", _ => Task.CompletedTask, ct, scheduled: true);
                captured++;
                logger.LogInformation("Scheduled backup {Backup} of {Addon} ({App}) for {Due:u}", backup.Id, record.Id, record.App, due);
            }
            catch (AddonException e)
            {
                db.AddEvent(record.App, "scheduler", "backup", $"The scheduled backup of {record.Id} failed: {e.Message}");
                continue;
            }
            foreach (var old in schedule.ToPrune(backups.List(record.App)))
            {
                backups.Delete(record.App, old.Id);
                db.AddEvent(record.App, "scheduler", "backup", $"Backup {old.Id} removed: the schedule keeps the last {schedule.Retention}");
            }
        }
        return captured;
    }
}
