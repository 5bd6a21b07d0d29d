using System.Globalization;
using Paas.Controller.Operations;
using Paas.Controller.State;
using Paas.Core.Instances;

namespace Paas.Controller.Instances;

/// <summary>
/// Restarting and stopping instances by name (all, TYPE, or one TYPE.N as Heroku names dynos): one implementation
/// behind both `paas ps:restart|ps:stop` (/v1) and the Heroku CLI's dyno endpoints, so they cannot drift apart.
/// </summary>
public sealed class InstanceCommands(IStateStore db, InstanceManager instances, Converger converger, AppLocks locks)
{
    /// <summary>Restarts <paramref name="process"/> (null: every process; TYPE; or TYPE.N) one slot at a time; returns how many restarted.</summary>
    /// <exception cref="InstanceCommandException">One sentence and a status: no release, no such type or instance, or a failed restart.</exception>
    public async Task<int> RestartAsync(string app, string? process, string actor, CancellationToken ct)
    {
        var release = db.CurrentRelease(app)
            ?? throw new InstanceCommandException(StatusCodes.Status422UnprocessableEntity, "no_release", $"{app} has no release yet: push it first.");
        // TYPE restarts every instance of it; TYPE.N (Heroku's web.2) only that one.
        int? index = null;
        if (process is not null && Split(process) is var (type, n))
            (process, index) = (type, n);
        if (process is not null && !release.ProcessTypes.ContainsKey(process))
            throw new InstanceCommandException(StatusCodes.Status422UnprocessableEntity, "unknown_process", $"{app} has no process type '{process}'.");
        int restarted;
        using (await locks.AcquireAsync(app, ct))
        {
            var targets = (await instances.ListAsync(app, ct))
                .Where(i => i.Running && (process is null || i.Process == process) && (index is null || i.Index == index)).ToList();
            if (index is not null && targets.Count == 0)
                throw NoSuchInstance(app, $"{process}.{index}");
            OperationProgress.Report(app, new Paas.Core.Api.ProgressEvent(Paas.Core.Api.ProgressEvent.Accepted, Release: release.Version,
                Message: $"Restarting {targets.Count} instance{(targets.Count == 1 ? "" : "s")} of {process ?? "all processes"}"));
            try
            {
                restarted = await instances.RollingRestartAsync(release, targets, ct);
            }
            catch (DeployException e)
            {
                throw new InstanceCommandException(StatusCodes.Status409Conflict, "restart_failed", $"{e.Message}; the instances not yet restarted keep running.");
            }
        }
        db.AddEvent(app, actor, "restart", $"Restarted {(process is null ? "all processes" : index is null ? process : $"{process}.{index}")} ({restarted} instance{(restarted == 1 ? "" : "s")})");
        return restarted;
    }

    /// <summary>
    /// Heroku's `ps:stop web.2`: that instance stops (drained first), the formation stays as it is, so the converger
    /// starts a replacement right away. Scaling a type to zero is the formation's business. Returns the stopped instance.
    /// </summary>
    /// <exception cref="InstanceCommandException">Not a TYPE.N name, or no such running instance.</exception>
    public async Task<InstanceState> StopAsync(string app, string? instance, string actor, CancellationToken ct)
    {
        if (instance is null || Split(instance) is not var (type, index))
            throw new InstanceCommandException(StatusCodes.Status422UnprocessableEntity, "invalid_instance", "Name one instance as TYPE.N, e.g. web.2 (to stop a whole type, scale it to zero).");
        InstanceState? target;
        using (await locks.AcquireAsync(app, ct))
        {
            target = (await instances.ListAsync(app, ct)).FirstOrDefault(i => i.Running && i.Process == type && i.Index == index)
                ?? throw NoSuchInstance(app, $"{type}.{index}");
            await instances.RetireAsync(target, drain: true, ct);
        }
        db.AddEvent(app, actor, "stop", $"Stopped {type}.{index}; the formation is unchanged, so a replacement starts");
        converger.Wake(app);
        return target;
    }

    /// <summary>"web.2" as (web, 2); null for anything else.</summary>
    public static (string Type, int Index)? Split(string name) =>
        name.LastIndexOf('.') is var dot and > 0
        && int.TryParse(name.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            ? (name[..dot], index)
            : null;

    private static InstanceCommandException NoSuchInstance(string app, string name) =>
        new(StatusCodes.Status404NotFound, "unknown_instance", $"{app} has no running instance {name}; see `paas ps`.");
}

/// <summary>Why an instance command was refused: an HTTP status, an error id and one sentence, for either API's error shape.</summary>
public sealed class InstanceCommandException(int status, string id, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Id { get; } = id;
}
