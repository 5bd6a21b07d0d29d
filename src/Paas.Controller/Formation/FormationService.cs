using System.Globalization;
using System.Text.RegularExpressions;
using Paas.Controller.Api;
using Paas.Controller.Instances;
using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Releases;

namespace Paas.Controller.Formation;

/// <summary>
/// Reads and changes an app's formation (how many instances of each process type, with how much memory),
/// for every API that scales: Paas's own and the Heroku-compatible one.
/// </summary>
public sealed partial class FormationService(IStateStore db, Converger converger, InstanceManager instances, AppLocks locks,
    PaasSettings settings, CellsView cells, Storage.StorageService storage, ILogger<FormationService>? logger = null)
{
    public const int MaxQuantity = 100;
    public const int MaxMemoryMb = 64 * 1024;

    [GeneratedRegex("^([0-9]{1,6})([MG])B?$", RegexOptions.IgnoreCase)]
    private static partial Regex SizePattern();

    /// <summary>Every process type of the current release and every one ever scaled, web first.</summary>
    public IReadOnlyList<FormationView> Describe(string app)
    {
        var formation = db.Formation(app);
        var types = db.CurrentRelease(app)?.ProcessTypes ?? new Dictionary<string, string>();
        return types.Keys.Union(formation.Keys).OrderBy(p => p == ProcessType.Web ? 0 : 1).ThenBy(p => p, StringComparer.Ordinal).Select(p => new FormationView(
            p,
            formation.TryGetValue(p, out var f) ? f.Quantity : 0,
            formation.TryGetValue(p, out var g) && g.MemoryMb is { } mb ? mb : settings.AppMemoryBytes / (1024 * 1024),
            types.GetValueOrDefault(p))).ToList();
    }

    /// <summary>Validates every change first (a <see cref="FormationException"/> leaves everything as it was), then applies them and converges.</summary>
    public async Task<ScaleOutcome> ScaleAsync(string app, IReadOnlyList<FormationChange> changes, string actor, CancellationToken ct)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var release = db.CurrentRelease(app)
            ?? throw new FormationException("no_release", $"{app} has no release yet: push it before scaling.");
        if (changes.Count == 0)
            throw new FormationException("invalid_formation", "Give at least one process type to scale, e.g. web=2.");
        var entries = new List<FormationEntry>();
        foreach (var change in changes)
        {
            if (change.Process is null || !release.ProcessTypes.ContainsKey(change.Process))
                throw new FormationException("unknown_process", $"{app} has no process type '{change.Process}'; it has {string.Join(", ", release.ProcessTypes.Keys)}.");
            if (change.Process == "release")
                throw new FormationException("unknown_process", "The release process runs once per deploy and cannot be scaled.");
            if (change.Quantity is < 0 or > MaxQuantity)
                throw new FormationException("invalid_quantity", $"The quantity for {change.Process} must be between 0 and {MaxQuantity}.");
            int? memoryMb = null;
            if (change.Size is { Length: > 0 } size)
            {
                if (SizePattern().Match(size) is not { Success: true } m)
                    throw new FormationException("invalid_size", $"Size '{size}' is not a memory size like 256M or 1G.");
                memoryMb = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * (m.Groups[2].Value.Equals("G", StringComparison.OrdinalIgnoreCase) ? 1024 : 1);
                var largest = await cells.LargestCellMemoryMbAsync();
                if (memoryMb is < 16 or > MaxMemoryMb || memoryMb > largest)
                    throw new FormationException("invalid_size", $"Size {size} fits no cell: sizes go from 16M up to the largest cell's {largest}M.");
            }
            entries.Add(new FormationEntry(change.Process, change.Quantity ?? db.Formation(app).GetValueOrDefault(change.Process)?.Quantity ?? 0, memoryMb));
            if (storage.RefuseScale(app, change.Process, entries[^1].Quantity) is { } refusal)
                throw new FormationException("volume_single", refusal);
        }
        using var _ = await locks.AcquireAsync(app, ct);
        db.SetFormation(app, entries);
        db.AddEvent(app, actor, "scale", "Scaled to " + string.Join(", ", entries.Select(e => $"{e.Process}={e.Quantity}{(e.MemoryMb is { } mb ? $":{mb}M" : "")}")));
        Operations.OperationProgress.Report(app, new Paas.Core.Api.ProgressEvent(Paas.Core.Api.ProgressEvent.Accepted, Release: release.Version,
            Message: "Scaling " + string.Join(", ", entries.Select(e => $"{e.Process} to {e.Quantity}"))));
        // A new size takes effect by replacing the running instances of that type one at a time, before
        // any new ones are added, so the instances already serving get their place first.
        var resized = entries.Where(e => e.MemoryMb is not null).Select(e => e.Process).ToHashSet();
        var stale = (await instances.ListAsync(app, ct))
            .Where(i => i.Running && i.Release == release.Version && resized.Contains(i.Process)
                && i.Index <= db.Formation(app)[i.Process].Quantity && i.MemoryLimitBytes != instances.MemoryBytesFor(app, i.Process))
            .ToList();
        var problems = new List<string>();
        try
        {
            await instances.RollingRestartAsync(release, stale, ct);
        }
        catch (DeployException e)
        {
            problems.Add(e.Message);
        }
        var converging = clock.ElapsedMilliseconds;
        var result = await converger.ConvergeAppAsync(app, _ => Task.CompletedTask, ct);
        problems.AddRange(result.Problems);
        // Where a scale's seconds go before and in the convergence (each start logs its own breakdown).
        logger?.LogInformation("Scaled {App}: converging from {Converging} ms, done at {Done} ms ({Started} started, {Stopped} stopped)",
            app, converging, clock.ElapsedMilliseconds, result.Started, result.Stopped);
        return new ScaleOutcome(result.Started + stale.Count, result.Stopped + stale.Count, Summarize(problems, db.Formation(app)));
    }

    /// <summary>"web.4 could not be placed: X" for each instance becomes "2 of 5 web instances unplaced: X".</summary>
    private static List<string> Summarize(List<string> problems, IReadOnlyDictionary<string, FormationEntry> formation)
    {
        const string marker = " could not be placed: ";
        var summary = problems.Where(p => !p.Contains(marker, StringComparison.Ordinal)).ToList();
        foreach (var group in problems.Where(p => p.Contains(marker, StringComparison.Ordinal)).GroupBy(p => p[..p.IndexOf('.')]))
        {
            var reason = group.First()[(group.First().IndexOf(marker, StringComparison.Ordinal) + marker.Length)..];
            var wanted = formation.TryGetValue(group.Key, out var f) ? f.Quantity : group.Count();
            summary.Add($"{group.Count()} of {wanted} {group.Key} instances unplaced: {reason}");
        }
        return summary;
    }
}
