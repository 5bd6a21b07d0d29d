using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Paas.Controller.Instances;
using Paas.Controller.State;
using Paas.Core.Releases;

namespace Paas.Controller.Storage;

/// <summary>
/// Persistent directories for an app's process types (Dokku's `storage:mount`). A volume lives on one cell's
/// engine, so the rule is: every instance of a process type with a volume is placed on that volume's cell (the
/// first placement after the mount chooses it), and such a type runs at most one instance unless the volume was
/// mounted with <c>shared</c>, in which case its instances all run on that cell and see the same files. Moving
/// the data to another cell is never done silently: if that cell is lost, the type waits for it, as an add-on does.
/// </summary>
public sealed partial class StorageService(IStateStore db, InstanceManager instances, AppLocks locks, TimeProvider time, ILogger<StorageService> logger)
{
    [GeneratedRegex("^(/[A-Za-z0-9._-]+)+$")]
    private static partial Regex PathPattern();

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,29}$")]
    private static partial Regex ProcessPattern();

    /// <summary>Paths an app may not hide behind a volume: its code, and what the system needs.</summary>
    private static readonly string[] Reserved = ["/app", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/sbin", "/sys", "/usr", "/var", "/tmp"];

    public sealed record MountOutcome(VolumeRecord Volume, int Restarted, IReadOnlyList<string> Problems);

    public IReadOnlyList<VolumeRecord> List(string app) => db.Volumes(app);

    /// <summary>Records the mount, then restarts the type's running instances one at a time so they get it (and move to its cell).</summary>
    public async Task<MountOutcome> MountAsync(string app, string path, string? process, bool shared, string actor, CancellationToken ct)
    {
        process ??= ProcessType.Web;
        path = path.TrimEnd('/');
        if (!PathPattern().IsMatch(path) || path.Split('/').Any(part => part is "." or ".."))
            throw new StorageException(StatusCodes.Status422UnprocessableEntity, "invalid_path", $"'{path}' is not an absolute path like /data (letters, digits, '.', '_', '-', no '..').");
        if (Reserved.Any(r => path == r || path.StartsWith(r + "/", StringComparison.Ordinal)))
            throw new StorageException(StatusCodes.Status422UnprocessableEntity, "invalid_path", $"{path} is the app's code or the system's ({string.Join(", ", Reserved)} are kept); mount somewhere else, like /data.");
        if (!ProcessPattern().IsMatch(process) || process == "release")
            throw new StorageException(StatusCodes.Status422UnprocessableEntity, "unknown_process", $"'{process}' is not a process type that runs instances.");
        using var _ = await locks.AcquireAsync(app, ct);
        var existing = db.Volumes(app).Where(v => v.Process == process).ToList();
        if (existing.Any(v => v.Path == path))
            throw new StorageException(StatusCodes.Status409Conflict, "conflict", $"{process} of {app} already has a volume at {path}.");
        var quantity = db.Formation(app).GetValueOrDefault(process)?.Quantity ?? 0;
        if (!shared && quantity > 1)
            throw new StorageException(StatusCodes.Status409Conflict, "volume_single",
                $"{process} runs {quantity} instances and a volume without --shared allows one; scale it to {process}=1 first, or mount with --shared so its instances share the volume on one cell.");
        var volume = new VolumeRecord(app, process, path, VolumeName(app, process, path), existing.Select(v => v.Cell).FirstOrDefault(c => c is not null), shared, time.GetUtcNow());
        db.SaveVolume(volume);
        db.AddEvent(app, actor, "storage", $"Mounted a {(shared ? "shared " : "")}volume at {path} for {process}");
        var (restarted, problems) = await RestartAsync(app, process, ct);
        return new MountOutcome(db.Volumes(app).First(v => v.Volume == volume.Volume), restarted, problems);
    }

    /// <summary>Forgets the mount and restarts the type's instances without it; the data stays in the volume on its cell.</summary>
    public async Task<MountOutcome> UnmountAsync(string app, string path, string? process, string actor, CancellationToken ct)
    {
        path = path.TrimEnd('/');
        using var _ = await locks.AcquireAsync(app, ct);
        var volume = db.Volumes(app).FirstOrDefault(v => v.Path == path && (process is null || v.Process == process))
            ?? throw new StorageException(StatusCodes.Status404NotFound, "not_found", $"{app} has no volume at {path}; see `paas storage:list -a {app}`.");
        db.DeleteVolume(app, volume.Volume);
        db.AddEvent(app, actor, "storage", $"Unmounted the volume at {volume.Path} from {volume.Process} (its data stays in {volume.Volume} on cell {volume.Cell ?? "none"})");
        var (restarted, problems) = await RestartAsync(app, volume.Process, ct);
        return new MountOutcome(volume, restarted, problems);
    }

    /// <summary>The refusal for a scale above one of a type whose volume is not shared; null when the scale may go ahead.</summary>
    public string? RefuseScale(string app, string process, int quantity)
    {
        if (quantity <= 1 || db.Volumes(app).FirstOrDefault(v => v.Process == process && !v.Shared) is not { } volume)
            return null;
        return $"{process} has a volume at {volume.Path}, which one instance at a time may use, so it stays at one instance; "
            + $"to run {quantity} on the volume's cell sharing its files, unmount it and mount it again with --shared.";
    }

    /// <summary>The engine's volume name: the app, the type and a hash of the path, so mounting the same path again finds the same data.</summary>
    public static string VolumeName(string app, string process, string path) =>
        $"paas-vol-{app}-{process}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(path)))[..8]}";

    private async Task<(int, IReadOnlyList<string>)> RestartAsync(string app, string process, CancellationToken ct)
    {
        if (db.CurrentRelease(app) is not { } release)
            return (0, []);
        var running = (await instances.ListAsync(app, ct)).Where(i => i.Running && i.Process == process && i.Release == release.Version).ToList();
        try
        {
            return (await instances.RollingRestartAsync(release, running, ct), []);
        }
        catch (DeployException e)
        {
            logger.LogWarning("Restarting {Process} of {App} for its volumes failed: {Error}", process, app, e.Message);
            return (0, [e.Message]);
        }
    }
}
