using Paas.Controller.Deploys;
using Paas.Controller.Instances;
using Paas.Controller.State;

namespace Paas.Controller.Releases;

/// <summary>
/// Releases made without a build: a config change (same image, new config vars) and a rollback (an old
/// release's image and config as a new version). Both roll out like a deploy — release phase, rolling
/// start gated on health — and both change nothing if the new release does not come up.
/// </summary>
public sealed class ReleaseService(IStateStore database, Deployer deployer, AppLocks locks, ReleaseImages images, TimeProvider time)
{
    /// <summary>
    /// Applies config var changes (a null value unsets) as a new release, which is returned. With a release running
    /// it rolls out; before the first deploy it is recorded without a build, and the first deploy takes its vars.
    /// </summary>
    public async Task<ReleaseRecord> SetConfigAsync(string app, IReadOnlyDictionary<string, string?> changes, string actor, Func<string, Task>? output, CancellationToken cancellationToken)
    {
        output ??= _ => Task.CompletedTask;
        using var _ = await locks.AcquireAsync(app, cancellationToken);
        var current = database.Config(app);
        if (ConfigVars.Validate(changes, current) is { } problem)
            throw new ReleaseException(ReleaseProblem.Invalid, problem);
        var config = ConfigVars.Apply(current, changes);
        var description = ConfigVars.Describe(changes);
        if (database.CurrentRelease(app) is not { } running)
        {
            // Nothing runs yet: the change is a release without a build (as on Heroku), and the first deploy takes its config.
            var stored = database.AddRelease(new ReleaseRecord(app, database.NextReleaseVersion(app), "", "", "", new Dictionary<string, string>(), time.GetUtcNow())
            {
                Config = config,
                Description = description,
            }, replaceConfig: true);
            database.AddEvent(app, actor, "release", $"Released v{stored.Version}: {description} (applies from the first deploy)");
            return stored;
        }
        var release = running with
        {
            Version = database.NextReleaseVersion(app),
            CreatedAt = time.GetUtcNow(),
            Config = config,
            Description = description,
        };
        await RollOutAsync(release, actor, output, cancellationToken);
        return database.FindRelease(app, release.Version)!;
    }

    /// <summary>A new release with vN's image, process types and config vars, rolled out like any other.</summary>
    /// <param name="description">The new release's description; "Rollback to vN" unless given (the automatic rollback names its reason).</param>
    public async Task<ReleaseRecord> RollbackAsync(string app, int version, string actor, Func<string, Task>? output, CancellationToken cancellationToken, string? description = null)
    {
        output ??= _ => Task.CompletedTask;
        using var _ = await locks.AcquireAsync(app, cancellationToken);
        var target = database.FindRelease(app, version)
            ?? throw new ReleaseException(ReleaseProblem.NotFound, $"{app} has no release v{version}; see `paas releases -a {app}`.");
        if (!target.HasBuild)
            throw new ReleaseException(ReleaseProblem.Conflict, $"v{version} ({target.Description}) has no build to run, so {app} cannot roll back to it.");
        if (database.CurrentRelease(app) is not { } current)
            throw new ReleaseException(ReleaseProblem.Conflict, $"{app} has not been deployed yet, so there is nothing to roll back.");
        if (current.Version == version)
            throw new ReleaseException(ReleaseProblem.Conflict, $"v{version} is already the current release of {app}.");
        if (!await images.ExistAsync(target, cancellationToken))
            throw new ReleaseException(ReleaseProblem.Conflict,
                $"The image of v{version} was pruned (only the most recent releases keep theirs), so {app} cannot roll back to it.");
        var release = target with
        {
            Version = database.NextReleaseVersion(app),
            CreatedAt = time.GetUtcNow(),
            Description = description ?? $"Rollback to v{version}",
        };
        await output($"-----> Rolling back {app} to v{version} as v{release.Version}");
        await RollOutAsync(release, actor, output, cancellationToken);
        return database.FindRelease(app, release.Version)!;
    }

    private async Task RollOutAsync(ReleaseRecord release, string actor, Func<string, Task> output, CancellationToken cancellationToken)
    {
        var recorded = false;
        Operations.OperationProgress.Report(release.App, new Paas.Core.Api.ProgressEvent(Paas.Core.Api.ProgressEvent.Accepted, Release: release.Version,
            Message: $"Rolling out v{release.Version} ({release.Description})"));
        try
        {
            var now = time.GetUtcNow();
            var deploy = new DeployRecord(release.App, release.Version, DeployPhase.ImageReady, release.Commit, now, now) { Release = release };
            await deployer.RunDeployStepsAsync(deploy, actor, output, cancellationToken);
            recorded = true;
        }
        catch (DeployException e)
        {
            throw new ReleaseException(ReleaseProblem.Failed, $"v{release.Version} ({release.Description}) did not come up, so nothing changed: {e.Message}");
        }
        catch (Cells.CellUnavailableException e)
        {
            throw new ReleaseException(ReleaseProblem.Failed, $"v{release.Version} ({release.Description}) could not be placed, so nothing changed: {e.Message}");
        }
        finally
        {
            // Unrecorded, the reserved version goes back, so a failed change leaves no gap (IStateStore.ReturnReleaseVersion).
            if (!recorded)
            {
                try
                {
                    database.ReturnReleaseVersion(release.App, release.Version);
                }
                catch (StateStoreUnavailableException)
                {
                    // The store refuses writes (no quorum): the version stays a gap, and its own error goes on.
                }
            }
        }
    }
}
