using Paas.Controller.Instances;
using Paas.Controller.State;
using Paas.Core.Logs;
using Paas.Staging.Hygiene;

namespace Paas.Controller.Deploys;

/// <summary>
/// Settles the deploys a controller left half-done when it died (SIGKILL, power loss), from their records
/// (<see cref="DeployRecord"/>): a deploy whose image exists is resumed (its rollout runs again to the
/// formation: instances of it already started are replaced one slot at a time, so the old release serves
/// until each slot's new instance is healthy); one that was staging, or in its release phase (which is not
/// safe to run twice), or whose image is gone, is marked failed and the previous release is converged back.
/// Either way the record says which, and `paas releases` shows it.
/// <para>
/// It takes each such app's lock in <see cref="StartAsync"/>, before the converger's first pass starts, so
/// that pass cannot stop the new release's instances of a rollout about to be resumed; the work itself runs
/// in the background, so the API is up meanwhile. Only the controller that runs the loops (the leader) should
/// run it: register it wherever the converger is registered.
/// </para>
/// </summary>
public sealed class DeployRecovery(
    IStateStore database,
    Deployer deployer,
    AppLocks locks,
    Converger converger,
    ImageJanitor images,
    AppLogWriter logs,
    ILogger<DeployRecovery> logger) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _work = [];

    /// <summary>Done when every unfinished deploy found at start is settled (for tests).</summary>
    public Task Completion => Task.WhenAll(_work);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<DeployRecord> unfinished;
        try
        {
            unfinished = database.UnfinishedDeploys();
        }
        catch (StateStoreUnavailableException e)
        {
            // Nothing can be resumed or recorded without the store; its records stay unfinished for the next start.
            logger.LogWarning("Unfinished deploys were not checked: {Reason}", e.Message);
            return;
        }
        foreach (var app in unfinished.GroupBy(d => d.App))
        {
            var held = await locks.AcquireAsync(app.Key, cancellationToken);
            _work.Add(Task.Run(() => SettleAsync(app.OrderBy(d => d.Version).ToList(), held, _stopping.Token), CancellationToken.None));
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try
        {
            await Completion.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // A resumed rollout stopped between steps stays unfinished; the next start takes it up again.
        }
    }

    private async Task SettleAsync(List<DeployRecord> deploys, IDisposable held, CancellationToken cancellationToken)
    {
        using var _ = held;
        var app = deploys[0].App;
        Task Output(string line)
        {
            logs.Post(app, LogSource.Staging, "", line);
            return Task.CompletedTask;
        }
        try
        {
            // Only the newest can become current; an older one was overtaken (another controller's, before a takeover).
            foreach (var stale in deploys.SkipLast(1))
                Settle(deployer.Finish(stale, DeployPhase.Failed, $"The controller restarted during v{stale.Version}'s {DeployRecord.Describe(stale.Phase)} and a later deploy followed, so it was abandoned."));
            await SettleAsync(deploys[^1], Output, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is StateStoreUnavailableException or DeployException or Cells.CellUnavailableException)
        {
            logger.LogWarning("The interrupted deploy of {App} could not be settled now: {Reason}", app, e.Message);
        }
    }

    private async Task SettleAsync(DeployRecord deploy, Func<string, Task> output, CancellationToken cancellationToken)
    {
        var v = $"v{deploy.Version}";
        if (database.FindRelease(deploy.App, deploy.Version) is not null)
        {
            // Died between recording the release and recording the deploy's end: it was released.
            Settle(deployer.Finish(deploy with { Resumed = true }, DeployPhase.Released, $"The controller restarted just after {v} was released."));
            await converger.ConvergeAppAsync(deploy.App, output, cancellationToken);
            return;
        }
        var failure = deploy.Phase switch
        {
            DeployPhase.Staging => $"The controller restarted while {v} was being built, so it was not deployed; push again.",
            DeployPhase.ReleasePhase => $"The controller restarted while {v}'s release command was running (it is not run twice), so {v} was not deployed; push again.",
            _ when deploy.Release is null => $"The controller restarted during {v}'s {DeployRecord.Describe(deploy.Phase)} and its record names no image, so it was not deployed.",
            _ when !await ImageExistsAsync(deploy.Release, cancellationToken) => $"The controller restarted during {v}'s rollout and its image is gone, so the previous release was restored.",
            _ => null,
        };
        if (failure is not null)
        {
            await output($" !     {failure}");
            await converger.ConvergeAppAsync(deploy.App, output, cancellationToken);
            Settle(deployer.Finish(deploy, deploy.Phase == DeployPhase.Rolling ? DeployPhase.RolledBack : DeployPhase.Failed, failure));
            return;
        }

        await output($"-----> The controller restarted during {v}'s {DeployRecord.Describe(deploy.Phase)}: resuming its rollout");
        try
        {
            var done = await deployer.RunDeployStepsAsync(
                deploy with { Resumed = true, Reason = $"Resumed after a controller restart during its {DeployRecord.Describe(deploy.Phase)}." },
                "paas", output, cancellationToken, fromRollout: deploy.Phase == DeployPhase.Rolling);
            Settle(done);
        }
        catch (Exception e) when (e is DeployException or Cells.CellUnavailableException)
        {
            // RunDeployStepsAsync recorded it as failed or rolled back, with the previous release serving.
            Settle(database.FindDeploy(deploy.App, deploy.Version) ?? deploy);
        }
    }

    private void Settle(DeployRecord deploy)
    {
        var outcome = DeployRecord.Describe(deploy.Phase) + (deploy.Reason.Length > 0 ? $": {deploy.Reason}" : "");
        logger.LogInformation("Interrupted deploy of {App} v{Version} {Outcome}", deploy.App, deploy.Version, outcome);
        try
        {
            database.AddEvent(deploy.App, "paas", "deploy", $"Interrupted deploy of v{deploy.Version} {outcome}");
        }
        catch (StateStoreUnavailableException)
        {
            // The record carries the outcome; the event is a convenience.
        }
    }

    private async Task<bool> ImageExistsAsync(ReleaseRecord release, CancellationToken cancellationToken)
    {
        try
        {
            return (await images.ReleaseTagsAsync(release.App, cancellationToken)).Any(t => t.Tag == release.Image);
        }
        catch (Exception e) when (e is Docker.DotNet.DockerApiException or HttpRequestException or IOException or TimeoutException)
        {
            // The local engine cannot tell (the image may live on another host's cell): try; a missing image fails the rollout, which rolls back.
            logger.LogWarning("Could not check the image of {App} v{Version}: {Reason}", release.App, release.Version, e.Message);
            return true;
        }
    }
}
