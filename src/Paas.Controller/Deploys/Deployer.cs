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
    /// Starts the new web instance before touching the old ones, and records the release only once it
    /// serves; if the new instance fails, it is removed and nothing else changes.
    /// </summary>
    private async Task RollOutAsync(ReleaseRecord release, Func<string, Task> output, CancellationToken cancellationToken)
    {
        var old = await instances.ListAsync(release.App, cancellationToken);
        await output($"-----> Launching v{release.Version}");
        var started = new List<InstanceState>();
        if (release.ProcessTypes.ContainsKey(ProcessType.Web))
            started.Add(await instances.StartAsync(release, ProcessType.Web, 1, output, cancellationToken));
        else
            await output(" !     No web process type: the app will get no HTTP traffic.");

        database.AddRelease(release.App, release.Version, release.Image, release.Commit, release.Buildpack, release.ProcessTypes);
        foreach (var instance in old)
        {
            await instances.RetireAsync(instance, cancellationToken);
            await output($"       Stopped {instance.Process}.{instance.Index} of v{instance.Release}");
        }
    }
}
