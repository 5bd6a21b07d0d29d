using System.Diagnostics;
using Paas.Controller.Git;
using Paas.Controller.Instances;
using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Instances;
using Paas.Core.Releases;
using Paas.Staging;
using Paas.Staging.Source;

namespace Paas.Controller.Deploys;

/// <summary>
/// One push, top to bottom: read the pushed commit, stage it into an image, start the new release's
/// instances and wait until they are healthy and routed, then retire the old ones. Any failure leaves
/// the previous release serving.
/// </summary>
public sealed class Deployer(
    PlatformDatabase database,
    GitRepositories repositories,
    IStager stager,
    InstanceManager instances,
    AppLocks locks,
    Converger converger,
    PaasSettings settings,
    ILogger<Deployer> logger)
{
    public async Task<bool> DeployAsync(string app, string revision, string? quarantine, Func<string, Task> output, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var _ = await locks.AcquireAsync(app, cancellationToken);
        try
        {
            var release = await BuildReleaseAsync(app, revision, quarantine, output, cancellationToken);
            await RollOutAsync(release, output, cancellationToken);
            await output($"-----> Released v{release.Version} in {clock.Elapsed.TotalSeconds:0.0} s");
            await output($"       {settings.AppUrl(app)} deployed to Paas");
            logger.LogInformation("Deployed {App} v{Version} ({Commit}) in {Seconds:0.0} s", app, release.Version, revision, clock.Elapsed.TotalSeconds);
            return true;
        }
        catch (Exception e) when (e is StagingException or DeployException)
        {
            await output($" !     Push rejected: {e.Message}");
            await output(" !     The previous release, if any, is still serving.");
            logger.LogInformation("Deploy of {App} failed: {Reason}", app, e.Message);
            return false;
        }
    }

    private async Task<ReleaseRecord> BuildReleaseAsync(string app, string revision, string? quarantine, Func<string, Task> output, CancellationToken cancellationToken)
    {
        await output($"-----> Building {app} from {revision[..Math.Min(7, revision.Length)]}");
        var scratch = Path.Combine(settings.DataDirectory, "tmp");
        Directory.CreateDirectory(scratch);
        using var source = PushedSource.Open(repositories.PathOf(app), revision, quarantine, scratch);

        IReadOnlyDictionary<string, string>? procfile = null;
        if (source.ReadRootFile("Procfile") is { } procfileText)
        {
            try
            {
                procfile = Procfile.Parse(procfileText);
            }
            catch (FormatException e)
            {
                throw new DeployException(e.Message);
            }
        }

        var version = database.NextReleaseVersion(app);
        var staged = await stager.StageAsync(
            new StagingRequest(app, version, revision, (stream, _) => { source.WriteTar(stream); return Task.CompletedTask; }, new Dictionary<string, string>()),
            output,
            cancellationToken);

        // A Procfile wins over the buildpack's defaults, as on Heroku.
        var processTypes = new Dictionary<string, string>(staged.Release.DefaultProcessTypes);
        foreach (var (type, command) in procfile ?? new Dictionary<string, string>())
            processTypes[type] = command;
        if (processTypes.Count == 0)
            throw new DeployException("The app defines no process to run: add a Procfile with a 'web:' line.");
        await output($"-----> Discovering process types");
        await output($"       Procfile declares types -> {(procfile is null ? "(none)" : string.Join(", ", procfile.Keys))}");
        await output($"       Default types for {staged.DetectedAs} -> {string.Join(", ", staged.Release.DefaultProcessTypes.Keys)}");
        return new ReleaseRecord(app, version, staged.Image, revision, staged.Buildpack, processTypes, DateTimeOffset.UtcNow);
    }

    /// <summary>
    /// A rolling deploy: for each slot of the formation, start the new instance, wait until it is healthy
    /// and routed, then drain the old one of that slot, a few slots at a time. The release is recorded only
    /// when every slot runs it; if a new instance fails, the new ones are removed and the previous release
    /// is restored to full scale (automatic rollback).
    /// </summary>
    private async Task RollOutAsync(ReleaseRecord release, Func<string, Task> output, CancellationToken cancellationToken)
    {
        var formation = database.Formation(release.App);
        if (release.ProcessTypes.ContainsKey(ProcessType.Web) && !formation.ContainsKey(ProcessType.Web))
        {
            // Heroku's default: the first release with a web process runs one of it.
            database.SetFormation(release.App, [new FormationEntry(ProcessType.Web, 1, null)]);
            formation = database.Formation(release.App);
        }
        var slots = release.ProcessTypes.Keys
            .OrderBy(p => p == ProcessType.Web ? 0 : 1).ThenBy(p => p, StringComparer.Ordinal)
            .SelectMany(p => Enumerable.Range(1, formation.TryGetValue(p, out var f) ? f.Quantity : 0).Select(i => (Process: p, Index: i)))
            .ToList();
        if (!release.ProcessTypes.ContainsKey(ProcessType.Web))
            await output(" !     No web process type: the app will get no HTTP traffic.");
        await output($"-----> Launching v{release.Version} ({slots.Count} instance{(slots.Count == 1 ? "" : "s")})");

        var old = (await instances.ListAsync(release.App, cancellationToken)).Where(i => i.Running).ToList();
        var started = new List<InstanceState>();
        var pending = new List<InstanceState>();
        try
        {
            foreach (var batch in slots.Chunk(settings.RolloutMaxInFlight))
            {
                var fresh = await Task.WhenAll(batch.Select(slot => instances.StartAsync(release, slot.Process, slot.Index, old, pending, output, cancellationToken)));
                lock (started) started.AddRange(fresh);
                foreach (var slot in batch)
                {
                    foreach (var replaced in old.Where(i => i.Process == slot.Process && i.Index == slot.Index))
                    {
                        await instances.RetireAsync(replaced, drain: true, cancellationToken);
                        await output($"       Stopped {replaced.Process}.{replaced.Index} of v{replaced.Release}");
                    }
                }
            }
        }
        catch (Exception e) when (e is DeployException or Cells.CellUnavailableException)
        {
            await output($" !     {e.Message}; rolling back to the previous release");
            foreach (var instance in started)
                await instances.RetireAsync(instance, drain: true, CancellationToken.None);
            var restored = await converger.ConvergeAppAsync(release.App, output, CancellationToken.None);
            if (restored.Problems.Count > 0)
                await output($" !     Restoring the previous release: {string.Join("; ", restored.Problems)}");
            throw new DeployException(e.Message);
        }

        database.AddRelease(release.App, release.Version, release.Image, release.Commit, release.Buildpack, release.ProcessTypes);
        database.AddEvent(release.App, "platform", "deploy", $"Deployed v{release.Version} ({release.Commit[..Math.Min(7, release.Commit.Length)]})");
        // Whatever the new release no longer runs (other process types, extra instances) leaves now.
        await converger.ConvergeAppAsync(release.App, output, cancellationToken);
    }
}
