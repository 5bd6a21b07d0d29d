using System.Globalization;
using System.Text.Json;
using Paas.Controller.Api;
using Paas.Controller.Releases;
using Paas.Controller.State;
using Paas.Core.Configuration;

namespace Paas.Controller.Heroku;

/// <summary>Heroku config vars and releases: a config change and a rollback each roll out a new release, as on Heroku.</summary>
public static class HerokuReleases
{
    public sealed record RollbackRequest(string? Release);

    /// <summary>Heroku's config change: a JSON object of NAME: "value", or NAME: null to unset; a new release rolls out.</summary>
    internal static async Task<IResult> SetConfigAsync(HttpContext context, JsonElement body, ReleaseService releases, IStateStore db, CancellationToken ct)
    {
        if (ConfigEndpoints.ReadChanges(body) is not { } changes)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_params", "Send a JSON object of NAME: \"value\" (or NAME: null to unset).");
        var app = HerokuEndpoints.Name(context);
        try
        {
            await releases.SetConfigAsync(app, changes, HerokuEndpoints.User(context), null, ct);
        }
        catch (ReleaseException e)
        {
            return ReleasesEndpoints.Problem(e);
        }
        return Results.Json(db.Config(app));
    }

    /// <summary>Heroku's rollback: POST a release with the id (or version) of the one to go back to.</summary>
    internal static async Task<IResult> RollbackAsync(HttpContext context, RollbackRequest? body, ReleaseService releases, IStateStore db, PaasSettings settings, CancellationToken ct)
    {
        var app = HerokuEndpoints.Name(context);
        if (body?.Release is not { Length: > 0 } wanted)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_params", "Say which release to roll back to: {\"release\": \"<id or version>\"}.");
        if (FindRelease(db, app, wanted) is not { } target)
            return ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"{app} has no release {wanted}.");
        try
        {
            var release = await releases.RollbackAsync(app, target.Version, HerokuEndpoints.User(context), null, ct);
            return Results.Json(Release(release, db.ListReleases(app, limit: int.MaxValue), settings, HerokuEndpoints.User(context)), statusCode: StatusCodes.Status201Created);
        }
        catch (ReleaseException e)
        {
            return ReleasesEndpoints.Problem(e);
        }
    }

    internal static IResult Show(HttpContext context, string release, IStateStore db, PaasSettings settings)
    {
        var app = HerokuEndpoints.Name(context);
        return FindRelease(db, app, release) is { } found
            ? Results.Json(Release(found, db.ListReleases(app, limit: int.MaxValue), settings, ReleaseAuthors(db, app).GetValueOrDefault(found.Version, "")))
            : ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"{app} has no release {release}.");
    }

    /// <summary>The config vars a release ran with (`releases:info` shows them).</summary>
    internal static IResult ConfigOf(HttpContext context, string release, IStateStore db)
    {
        var app = HerokuEndpoints.Name(context);
        return FindRelease(db, app, release) is { } found
            ? Results.Json(found.Config)
            : ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"{app} has no release {release}.");
    }

    internal static IResult ListReleases(HttpContext context, IStateStore db, PaasSettings settings)
    {
        var app = HerokuEndpoints.Name(context);
        var range = HerokuRange.Parse(context.Request.Headers.Range.ToString());
        var all = db.ListReleases(app, limit: int.MaxValue);
        var window = (range.Descending ? all : all.Reverse()).Take(range.Max);
        var authors = ReleaseAuthors(db, app);
        return Results.Json(window.Select(r => Release(r, all, settings, authors.GetValueOrDefault(r.Version, ""))));
    }

    /// <param name="all">The app's releases, newest first.</param>
    internal static object Release(ReleaseRecord release, IReadOnlyList<ReleaseRecord> all, PaasSettings settings, string author)
    {
        var current = all.Count > 0 ? all[0].Version : 0;
        // Only the newest releases keep their images, so only they can be rolled back to.
        var eligible = release.HasBuild && all.Take(settings.KeepReleases).Any(r => r.Version == release.Version);
        var description = release.Description.Length > 0 ? release.Description : $"Deploy {release.Commit[..Math.Min(7, release.Commit.Length)]}";
        return HerokuShapes.Release(release, current, eligible, description, author);
    }

    /// <summary>Who made each release, from the "Released vN: …" events the deployer records (releases do not store it).</summary>
    internal static Dictionary<int, string> ReleaseAuthors(IStateStore db, string app)
    {
        var authors = new Dictionary<int, string>();
        foreach (var e in db.Events(app, 1000).Where(e => e.Kind == "release" && e.Message.StartsWith("Released v", StringComparison.Ordinal)))
        {
            var digits = e.Message["Released v".Length..].TakeWhile(char.IsAsciiDigit).ToArray();
            if (int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
                authors[version] = e.Actor;
        }
        return authors;
    }

    /// <summary>A release by version ("3" or "v3") or by its Heroku id.</summary>
    internal static ReleaseRecord? FindRelease(IStateStore db, string app, string idOrVersion)
    {
        var releases = db.ListReleases(app, limit: int.MaxValue);
        var version = idOrVersion.TrimStart('v', 'V');
        return int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? releases.FirstOrDefault(r => r.Version == v)
            : releases.FirstOrDefault(r => HerokuIds.Release(app, r.Version) == idOrVersion.ToLowerInvariant());
    }
}
