using Paas.Controller.Instances;
using Paas.Controller.Releases;
using Paas.Controller.State;
using Paas.Core.Api;
using Paas.Core.Releases;

namespace Paas.Controller.Operations;

/// <summary>The outcome of an operation that makes a release (config change, rollback), counted from what the cells run afterwards.</summary>
public sealed class ReleaseOutcomes(IStateStore db, InstanceManager instances, TimeProvider time)
{
    public async Task<OperationOutcome> OfAsync(string app, CancellationToken cancellationToken, Func<Task<ReleaseRecord>> operation)
    {
        var started = time.GetTimestamp();
        ReleaseRecord release;
        try
        {
            release = await operation();
        }
        catch (ReleaseException e)
        {
            return new OperationOutcome(false, e.Message, null, 0, 0, time.GetElapsedTime(started).TotalSeconds)
            {
                Error = e.Problem switch
                {
                    ReleaseProblem.Invalid => "invalid_config",
                    ReleaseProblem.NotFound => "not_found",
                    ReleaseProblem.Conflict => "conflict",
                    _ => "release_failed",
                },
            };
        }
        if (!release.HasBuild)
            return new OperationOutcome(true, $"Released v{release.Version} ({release.Description}); it applies from the first deploy.", release.Version, 0, 0,
                time.GetElapsedTime(started).TotalSeconds) { Deployed = false };
        var formation = db.Formation(app);
        var wanted = release.ProcessTypes.Keys.Sum(p => formation.TryGetValue(p, out var f) ? f.Quantity : 0);
        var healthy = (await instances.ListAsync(app, cancellationToken)).Count(i => i.Running && i.Release == release.Version);
        var seconds = time.GetElapsedTime(started).TotalSeconds;
        return new OperationOutcome(true, $"Released v{release.Version} ({release.Description}): {ProgressStream.Health(healthy, wanted, seconds)}", release.Version, healthy, wanted, seconds);
    }
}
