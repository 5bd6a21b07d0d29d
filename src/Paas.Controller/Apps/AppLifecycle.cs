using Paas.Controller.Api;
using Paas.Controller.Auth;
using Paas.Controller.Git;
using Paas.Controller.Instances;
using Paas.Controller.Routing;
using Paas.Controller.State;
using Paas.Core.Apps;
using Paas.Core.Configuration;
using Paas.Core.Logs;
using Paas.Staging;
using Paas.Staging.Buildpacks;
using Paas.Staging.Hygiene;

namespace Paas.Controller.Apps;

/// <summary>
/// Creating and destroying an app, shared by the Paas API and the Heroku API so both apply the same
/// rules. Each returns null when done, or the error to answer with; callers shape their own success.
/// </summary>
public sealed class AppLifecycle(
    IStateStore db, AppAccess access, GitRepositories repos, RoutePublisher routes, InstanceManager instances, CrashTracker crashes,
    AppLocks locks, PaasSettings settings, ImageJanitor janitor, Deploys.RegistryPruner registry, StagingOptions staging, BuildpackFetcher buildpacks, IDomainStore domains, AppLogWriter logs,
    Certificates.TlsPublisher tls,
    Addons.AddonService addons, TimeProvider time)
{
    public async Task<IResult?> CreateAsync(string? name, Caller caller)
    {
        if (AppName.Validate(name) is { } problem)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_name", problem);
        if (!db.TryCreateApp(name!, caller.Name, out var app))
            return ApiError.Result(StatusCodes.Status409Conflict, "name_taken", $"An app named '{name}' already exists.");
        repos.Create(app.Name);
        // Heroku's v1: an app has a release history from its creation, so config changes before the first deploy are releases too.
        var initial = db.AddRelease(ReleaseRecord.Initial(app.Name, db.NextReleaseVersion(app.Name), time.GetUtcNow()));
        db.AddEvent(app.Name, caller.Name, "release", $"Released v{initial.Version}: {initial.Description}");
        // Lines of a destroyed app of the same name may have arrived after its log was deleted (its last requests, its last output).
        await logs.DeleteAsync(app.Name);
        // Nor may it find their fetched buildpacks.
        buildpacks.ForgetApp(app.Name);
        await routes.SetHostAsync(settings.AppHost(app.Name), app.Name);
        return null;
    }

    public async Task<IResult?> DestroyAsync(string name, Caller caller, CancellationToken ct)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        if (access.LevelOf(caller, name) != AccessLevel.Owner)
            return ApiAuthorization.OwnerOnly(name, "destroy it");
        using var _ = await locks.AcquireAsync(name, ct);
        foreach (var instance in await instances.ListAsync(name, ct))
            await instances.RetireAsync(instance, drain: false, ct);
        crashes.Forget(name);
        await addons.RemoveAllAsync(name);
        await routes.RemoveHostAsync(settings.AppHost(name));
        // Not left for an app created later under the same name (the store's copy goes with DeleteApp).
        await routes.SetAppOptionsAsync(name, Paas.Core.Routing.AppRouteOptions.None);
        await DomainsEndpoints.RemoveAllAsync(name, domains, routes, tls);
        await tls.SetAutoAsync(name, false);
        db.DeleteApp(name);
        repos.Delete(name);
        await logs.DeleteAsync(name);
        // Everything the app left on disk: its release images, staging leftovers, build cache and fetched buildpacks.
        await janitor.RemoveAppAsync(name, ct);
        try
        {
            await registry.RemoveAppAsync(name, ct);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // Its layers stay until a later destroy of the same name or an operator's clean-up; the app is gone either way.
            System.Console.Error.WriteLine($"paas controller: removing {name}'s images from the registry failed: {e.Message}");
        }
        buildpacks.ForgetApp(name);
        var cache = Path.Combine(staging.CacheRoot, name);
        if (Directory.Exists(cache))
            Directory.Delete(cache, recursive: true);
        return null;
    }
}
