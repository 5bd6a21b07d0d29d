using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Paas.Controller.Cells;
using Paas.Controller.State;
using Paas.Core.Addons;

namespace Paas.Controller.Addons;

/// <summary>A PostgreSQL backup: a logical dump (pg_dump's custom format) kept outside the add-on's volume.</summary>
public sealed record BackupRecord(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("addon")] string Addon,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("size_bytes")] long SizeBytes,
    [property: JsonPropertyName("seconds")] double Seconds)
{
    /// <summary>Taken by the daily schedule (pruned by its retention), not by hand.</summary>
    [JsonPropertyName("scheduled")]
    public bool Scheduled { get; init; }
}

/// <summary>What the backup scheduler needs of the backups: a seam, so its clock logic is tested without a server.</summary>
public interface IScheduledBackups
{
    Task<BackupRecord> CaptureAsync(string app, string actor, Func<string, Task> progress, CancellationToken ct, bool scheduled = false);
    IReadOnlyList<BackupRecord> List(string app);
    void Delete(string app, string id);
}

/// <summary>
/// Backups of PostgreSQL add-ons, in the controller's data directory (<c>backups/APP/b001.dump</c> with its
/// <c>.json</c> record beside it): captured with pg_dump in the server's container and streamed here, restored
/// by streaming the dump back into pg_restore (--clean: the database becomes the dump's). Outside the volume,
/// so destroying the add-on or losing its cell does not take the backups.
/// </summary>
public sealed class AddonBackups(IStateStore db, CellDirectory cells, string root, TimeProvider time) : IScheduledBackups
{
    public async Task<BackupRecord> CaptureAsync(string app, string actor, Func<string, Task> progress, CancellationToken ct, bool scheduled = false)
    {
        var (record, remote) = await PostgresAsync(app);
        var dir = Directory.CreateDirectory(Path.Combine(root, app)).FullName;
        var id = NextId(dir);
        var partial = Path.Combine(dir, id + ".dump.partial");
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        long size;
        try
        {
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                size = await remote.DumpAddonAsync(record.Id,
                    ["pg_dump", "-h", "/tmp", "-U", record.User, "-d", record.Database, "-Fc", "--no-owner", "--no-acl"], file,
                    async bytes =>
                    {
                        if (clock.Elapsed - lastReport < TimeSpan.FromSeconds(1))
                            return;
                        lastReport = clock.Elapsed;
                        await progress($"captured {Megabytes(bytes)} MB ({Megabytes(bytes) / Math.Max(clock.Elapsed.TotalSeconds, 0.001):0.0} MB/s)");
                    }, ct);
            }
            File.Move(partial, Path.Combine(dir, id + ".dump"));
        }
        catch (Exception e) when (e is CellTaskException or CellUnavailableException)
        {
            File.Delete(partial);
            throw new AddonException(StatusCodes.Status503ServiceUnavailable, "backup_failed", e.Message.TrimEnd('.') + ".");
        }
        var backup = new BackupRecord(id, app, record.Id, time.GetUtcNow(), size, Math.Round(clock.Elapsed.TotalSeconds, 2)) { Scheduled = scheduled };
        await File.WriteAllTextAsync(Path.Combine(dir, id + ".json"), JsonSerializer.Serialize(backup), ct);
        db.AddEvent(app, actor, "backup", $"Backup {id} of {record.Id} captured ({Megabytes(size)} MB)");
        return backup;
    }

    public IReadOnlyList<BackupRecord> List(string app)
    {
        var dir = Path.Combine(root, app);
        if (!Directory.Exists(dir))
            return [];
        return Directory.EnumerateFiles(dir, "b*.json")
            .Select(f => JsonSerializer.Deserialize<BackupRecord>(File.ReadAllText(f))!)
            .OrderBy(b => b.Id, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The dump's path, or a not-found error naming the app's backups.</summary>
    public string PathOf(string app, string id)
    {
        var backup = List(app).FirstOrDefault(b => string.Equals(b.Id, id, StringComparison.OrdinalIgnoreCase))
            ?? throw new AddonException(StatusCodes.Status404NotFound, "not_found", $"{app} has no backup {id}; see `paas pg:backups -a {app}`.");
        return Path.Combine(root, app, backup.Id + ".dump");
    }

    /// <summary>Removes the dump and its record (the schedule's retention); a backup already gone is not an error.</summary>
    public void Delete(string app, string id)
    {
        File.Delete(Path.Combine(root, app, id + ".dump"));
        File.Delete(Path.Combine(root, app, id + ".json"));
    }

    public async Task<BackupRecord> RestoreAsync(string app, string id, string actor, CancellationToken ct)
    {
        var path = PathOf(app, id);
        var backup = List(app).First(b => path.EndsWith(b.Id + ".dump", StringComparison.Ordinal));
        var (record, remote) = await PostgresAsync(app);
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        var result = await remote.RestoreAddonAsync(record.Id,
            ["pg_restore", "-h", "/tmp", "-U", record.User, "-d", record.Database, "--clean", "--if-exists", "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction"], file, ct);
        if (result.ExitCode != 0)
            throw new AddonException(StatusCodes.Status422UnprocessableEntity, "restore_failed",
                $"pg_restore exited with code {result.ExitCode}: {result.Output.Trim().Split('\n').LastOrDefault()?.Trim()}");
        db.AddEvent(app, actor, "backup", $"Backup {backup.Id} restored into {record.Id}");
        return backup;
    }

    /// <summary>The app's PostgreSQL add-on's daily backup, or null.</summary>
    public BackupSchedule? Schedule(string app) => PostgresRecord(app).BackupSchedule;

    /// <summary>Sets (or replaces) the daily backup at <paramref name="at"/> UTC keeping <paramref name="retention"/> scheduled backups.</summary>
    public BackupSchedule SetSchedule(string app, string at, int? retention, string actor)
    {
        var record = PostgresRecord(app);
        if (BackupSchedule.ParseAt(at) is not { } time24)
            throw new AddonException(StatusCodes.Status422UnprocessableEntity, "invalid_schedule", $"'{at}' is not a time of day like 02:00 (24-hour, UTC).");
        var keep = retention ?? record.BackupSchedule?.Retention ?? BackupSchedule.DefaultRetention;
        if (keep is < 1 or > BackupSchedule.MaxRetention)
            throw new AddonException(StatusCodes.Status422UnprocessableEntity, "invalid_schedule", $"The retention must be between 1 and {BackupSchedule.MaxRetention} backups.");
        var schedule = new BackupSchedule(time24.ToString("HH:mm", CultureInfo.InvariantCulture), keep, time.GetUtcNow(), record.BackupSchedule?.LastRun);
        db.SaveAddon(record with { BackupSchedule = schedule });
        db.AddEvent(app, actor, "backup", $"Daily backup of {record.Id} scheduled at {schedule.At} UTC, keeping {keep}");
        return schedule;
    }

    /// <summary>Stops the daily backup; false when there was none. The backups it took stay.</summary>
    public bool Unschedule(string app, string actor)
    {
        var record = PostgresRecord(app);
        if (record.BackupSchedule is null)
            return false;
        db.SaveAddon(record with { BackupSchedule = null });
        db.AddEvent(app, actor, "backup", $"Daily backup of {record.Id} unscheduled");
        return true;
    }

    private AddonRecord PostgresRecord(string app) =>
        db.Addons(app).FirstOrDefault(a => a.Kind == AddonKind.Postgresql.Name)
            ?? throw new AddonException(StatusCodes.Status404NotFound, "not_found", $"{app} has no postgresql add-on; create one with `paas addons:create postgresql -a {app}`.");

    private async Task<(AddonRecord Record, RemoteCell Remote)> PostgresAsync(string app)
    {
        var record = db.Addons(app).FirstOrDefault(a => a.Kind == AddonKind.Postgresql.Name)
            ?? throw new AddonException(StatusCodes.Status404NotFound, "not_found", $"{app} has no postgresql add-on; create one with `paas addons:create postgresql -a {app}`.");
        return await cells.FindAsync(record.Cell) is RemoteCell remote
            ? (record, remote)
            : throw new AddonException(StatusCodes.Status503ServiceUnavailable, "cell_unavailable", $"Cell {record.Cell}, which runs {record.Id}, is not live.");
    }

    /// <summary>b001, b002, …: one more than the highest there (a failed capture leaves no number behind).</summary>
    private static string NextId(string dir)
    {
        var highest = Directory.EnumerateFiles(dir, "b*.dump")
            .Select(f => int.TryParse(Path.GetFileNameWithoutExtension(f)[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0)
            .DefaultIfEmpty(0).Max();
        return "b" + (highest + 1).ToString("D3", CultureInfo.InvariantCulture);
    }

    private static double Megabytes(long bytes) => Math.Round(bytes / 1_000_000.0, 1);
}
