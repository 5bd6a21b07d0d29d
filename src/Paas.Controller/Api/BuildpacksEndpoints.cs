using Paas.Controller.Auth;
using Paas.Controller.Instances;
using Paas.Controller.State;
using Paas.Staging;
using Paas.Staging.Buildpacks;

namespace Paas.Controller.Api;

/// <summary>
/// An app's ordered buildpack list (`paas buildpacks:*`), which wins over `.buildpacks` and app.json, and
/// its build cache (`paas builds:cache:purge`). Positions in the API are 1-based, as in Heroku's CLI.
/// </summary>
public static class BuildpacksEndpoints
{
    public sealed record SetRequest(List<string>? Buildpacks);

    public sealed record AddRequest(string? Buildpack, int? Index);

    public static void MapBuildpacksApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/apps/{name}/buildpacks", (string name, IStateStore db) =>
            db.FindApp(name) is null ? AppsEndpoints.NotFound(name) : List(db, name))
            .WithName("getBuildpacks").WithSummary("The app's buildpacks, in order (empty: detected at each push)");
        api.MapPut("/apps/{name}/buildpacks", (string name, SetRequest? body, IStateStore db, StagingOptions staging, HttpContext context) =>
        {
            if (db.FindApp(name) is null)
                return AppsEndpoints.NotFound(name);
            var wanted = body?.Buildpacks ?? [];
            var list = new List<string>();
            foreach (var item in wanted)
            {
                if (Validate(item, staging, Caller.Of(context)) is { } problem)
                    return problem;
                var text = item.Trim();
                if (list.Contains(text))
                    return Invalid($"'{text}' is listed twice.");
                list.Add(text);
            }
            db.SetBuildpacks(name, list);
            return List(db, name);
        }).WithName("setBuildpacks").WithSummary("Replace the app's buildpack list");
        api.MapPost("/apps/{name}/buildpacks", (string name, AddRequest? body, IStateStore db, StagingOptions staging, HttpContext context) =>
        {
            if (db.FindApp(name) is null)
                return AppsEndpoints.NotFound(name);
            if (Validate(body?.Buildpack, staging, Caller.Of(context)) is { } problem)
                return problem;
            var text = body!.Buildpack!.Trim();
            var list = db.Buildpacks(name).ToList();
            if (list.Contains(text))
                return Invalid($"The app already uses the buildpack {text}.");
            var index = body.Index ?? list.Count + 1;
            if (index < 1 || index > list.Count + 1)
                return Invalid($"Index {index} is out of range: use 1 to {list.Count + 1}.");
            list.Insert(index - 1, text);
            db.SetBuildpacks(name, list);
            return List(db, name);
        }).WithName("addBuildpack").WithSummary("Add a buildpack at the end or at a 1-based index");
        api.MapDelete("/apps/{name}/buildpacks", (string name, string? buildpack, int? index, IStateStore db) =>
        {
            if (db.FindApp(name) is null)
                return AppsEndpoints.NotFound(name);
            var list = db.Buildpacks(name).ToList();
            if (buildpack is null && index is null)
                list.Clear();
            else if (index is { } i)
            {
                if (i < 1 || i > list.Count)
                    return Invalid(list.Count == 0 ? "The app has no buildpacks set." : $"Index {i} is out of range: use 1 to {list.Count}.");
                list.RemoveAt(i - 1);
            }
            else if (!list.Remove(buildpack!.Trim()))
                return Invalid($"The app does not use the buildpack {buildpack.Trim()}.");
            db.SetBuildpacks(name, list);
            return List(db, name);
        }).WithName("removeBuildpack").WithSummary("Remove a buildpack by name/URL or by 1-based index");
        api.MapDelete("/apps/{name}/build-cache", async (string name, IStateStore db, StagingOptions staging, AppLocks locks, CancellationToken ct) =>
        {
            if (db.FindApp(name) is null)
                return AppsEndpoints.NotFound(name);
            // Not while a build of this app uses the cache.
            using var _ = await locks.AcquireAsync(name, ct);
            var cache = new DirectoryInfo(Path.Combine(staging.CacheRoot, name));
            long bytes = 0;
            if (cache.Exists)
            {
                bytes = cache.EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
                cache.Delete(recursive: true);
            }
            return Results.Json(new { app = name, purged_bytes = bytes });
        }).WithName("purgeBuildCache").WithSummary("Empty the app's build cache");
    }

    private static IResult List(IStateStore db, string app) =>
        Results.Json(db.Buildpacks(app).Select((b, i) => new { index = i + 1, buildpack = b }));

    internal static IResult? Validate(string? text, StagingOptions staging, Caller caller)
    {
        if (BuildpackReference.Parse(text, out var problem) is not { } buildpack)
            return Invalid(problem!);
        if (buildpack.RefusalFor(caller.IsAdmin ? BuildpackTrust.Operator : BuildpackTrust.Tenant) is { } refusal)
            return Invalid(refusal);
        if (buildpack.Kind == BuildpackKind.BuiltIn && !File.Exists(Path.Combine(staging.BuildpacksDirectory, buildpack.Location, "bin", "compile")))
        {
            var builtIns = Directory.EnumerateDirectories(staging.BuildpacksDirectory).Select(Path.GetFileName).Order();
            return Invalid($"'{buildpack}' is not a built-in buildpack ({string.Join(", ", builtIns)}), a git URL or a .tgz URL.");
        }
        return null;
    }

    private static IResult Invalid(string message) =>
        ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_buildpack", message);
}
