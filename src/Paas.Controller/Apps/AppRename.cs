using Paas.Controller.Api;
using Paas.Controller.Auth;
using Paas.Controller.Git;
using Paas.Controller.Instances;
using Paas.Controller.Routing;
using Paas.Controller.State;
using Paas.Core.Apps;
using Paas.Core.Configuration;
using Paas.Core.Logs;
using Paas.Core.Routing;
using Paas.Staging;

namespace Paas.Controller.Apps;

/// <summary>
/// `paas apps:rename NEW -a OLD` (and the Heroku API's PATCH /apps/OLD {"name": NEW}). The state store moves the
/// app's records in one write (<see cref="IStateStore.RenameApp"/>) that also records the rename as pending; then
/// everything outside the store follows, each step idempotent, and the pending record goes last. A controller that
/// dies in between leaves the record, and the converger's next pass (on this or another controller) runs the same
/// steps again (<see cref="FinishAsync"/>): none of them minds having been done already.
/// Running instances carry the old name in their labels (and ship their logs under it), which a container cannot
/// change: they are replaced one by one, as a rolling restart does, after their routes were re-published under
/// the new name, so the app keeps serving at its new host throughout and its old host answers 404 at once.
/// </summary>
public sealed class AppRename(
    IStateStore db, AppAccess access, GitRepositories repos, RoutePublisher routes, InstanceManager instances, CrashTracker crashes,
    AppLocks locks, PaasSettings settings, IDomainStore domains, AppLogWriter logs, Certificates.TlsPublisher tls,
    StagingOptions staging, Paas.Staging.Hygiene.ImageJanitor janitor, ILogger<AppRename> logger)
{
    /// <summary>Renames the app; null when done, or the error to answer with (nothing changed then).</summary>
    public async Task<IResult?> RenameAsync(string name, string? newName, Caller caller, CancellationToken ct)
    {
        var level = access.LevelOf(caller, name);
        if (level == AccessLevel.None)
            return AppsEndpoints.NotFound(name);
        if (level != AccessLevel.Owner)
            return ApiAuthorization.OwnerOnly(name, "rename it");
        if (newName == name)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_name", $"The app is named '{name}' already; give another name.");
        if (AppName.Validate(newName) is { } problem)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_name", problem);
        if (db.FindApp(newName!) is not null)
            return ApiError.Result(StatusCodes.Status409Conflict, "name_taken", $"An app named '{newName}' already exists.");
        // A rename still finishing owns the instances, logs and repository under its names: one at a time.
        if (db.PendingRenames().FirstOrDefault(r => r.From == name || r.To == name || r.From == newName) is { } pending)
            return ApiError.Result(StatusCodes.Status409Conflict, "rename_pending",
                $"The rename of '{pending.From}' to '{pending.To}' is still being finished; try again in a minute.");

        // Both names' locks, in one order, so no deploy or convergence pass of either runs meanwhile.
        using var first = await locks.AcquireAsync(string.CompareOrdinal(name, newName) < 0 ? name : newName!, ct);
        using var second = await locks.AcquireAsync(string.CompareOrdinal(name, newName) < 0 ? newName! : name, ct);
        if (!db.RenameApp(name, newName!))
        {
            return db.FindApp(name) is null
                ? AppsEndpoints.NotFound(name)
                : ApiError.Result(StatusCodes.Status409Conflict, "name_taken", $"An app named '{newName}' already exists.");
        }
        logger.LogInformation("Renamed app {Old} to {New}", name, newName);
        try
        {
            await FinishAsync(name, newName!, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The app has its new name (the store says so); the rename stays pending and the converger's next pass finishes it.
            logger.LogWarning(e, "Finishing the rename of {Old} to {New} failed; the converger will finish it", name, newName);
        }
        // After the log moved (the move replaces the new name's log): the event's line goes to the app's log too.
        db.AddEvent(newName!, caller.Name, "rename", $"Renamed from {name} to {newName}");
        return null;
    }

    /// <summary>Finishes the renames a controller left pending (the converger calls this at each full pass).</summary>
    public async Task FinishPendingAsync(CancellationToken ct)
    {
        foreach (var rename in db.PendingRenames())
        {
            using var first = await locks.AcquireAsync(string.CompareOrdinal(rename.From, rename.To) < 0 ? rename.From : rename.To, ct);
            using var second = await locks.AcquireAsync(string.CompareOrdinal(rename.From, rename.To) < 0 ? rename.To : rename.From, ct);
            // Taken again under the locks: the rename's own request may have finished it meanwhile.
            if (db.PendingRenames().Any(r => r == rename))
                await FinishAsync(rename.From, rename.To, ct);
        }
    }

    /// <summary>Every step outside the store, each safe to run again; the caller holds both names' locks.</summary>
    private async Task FinishAsync(string name, string newName, CancellationToken ct)
    {
        // The log first: from the moment the routes below name the app anew, the routers log its requests under the new name.
        await logs.MoveAsync(name, newName);
        repos.Move(name, newName);
        var cache = Path.Combine(staging.CacheRoot, name);
        if (Directory.Exists(cache) && !Directory.Exists(Path.Combine(staging.CacheRoot, newName)))
            Directory.Move(cache, Path.Combine(staging.CacheRoot, newName));
        crashes.Forget(name);
        // Before any instance starts under the new name: the store names its release images paas/app-NEW:vN already.
        await janitor.RetagAppAsync(name, newName, ct);

        // Routing: the running instances serve the new host at once (same instances, same addresses, routed under
        // the new name), the app's options and custom domains follow, and the old host goes (404 at the routers).
        var running = await instances.ListAsync(name, ct);
        var routed = await routes.RoutesOfAppAsync(name);
        if (routed.Count > 0)
            await routes.AddRoutesAsync(routed.Select(r => r with { App = newName }).ToList());
        await routes.SetAppOptionsAsync(newName, db.RouteOptions(newName));
        await routes.SetHostAsync(settings.AppHost(newName), newName);
        foreach (var domain in domains.ListForApp(newName))
        {
            await routes.SetHostAsync(domain.Hostname, newName);
            await tls.MoveAsync(domain.Hostname, newName);
        }
        await routes.RemoveHostAsync(settings.AppHost(name));
        await routes.SetAppOptionsAsync(name, AppRouteOptions.None);
        if (await tls.IsAutoAsync(name))
        {
            await tls.SetAutoAsync(newName, true);
            await tls.SetAutoAsync(name, false);
        }

        // Instances: the current release's are replaced one at a time (the new one healthy and routed before the
        // old one drains); anything else under the old name (crashed, an older release) just goes.
        var current = db.CurrentRelease(newName);
        var replace = running.Where(i => i.Running && current is not null && i.Release == current.Version).ToList();
        foreach (var other in running.Except(replace))
            await instances.RetireAsync(other, drain: other.Running, ct);
        if (replace.Count > 0)
            await instances.RollingRestartAsync(current!, replace, ct);
        // Lines the old instances wrote after the log moved (their last ones): the old name's log is not kept.
        await logs.DeleteAsync(name);
        db.FinishRename(name);
    }
}
