using Paas.Controller.Auth;
using Paas.Controller.Releases;
using Paas.Controller.State;

namespace Paas.Controller.Api;

/// <summary>An app's releases, newest first, one release's details, and rolling back to an earlier one.</summary>
public static class ReleasesEndpoints
{
    public sealed record RollbackRequest(int? Version);

    public static void MapReleasesApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/apps/{name}/releases", (string name, HttpContext context, IStateStore db) =>
        {
            var current = db.CurrentRelease(name)?.Version;
            return Paging.Page(context, db.ListReleases(name, int.MaxValue), r => "v" + r.Version, r => Describe(r, current, withConfig: false));
        });
        api.MapGet("/apps/{name}/releases/{version}", (string name, string version, IStateStore db) =>
        {
            if (ParseVersion(version) is not { } number)
                return ApiError.Result(StatusCodes.Status400BadRequest, "invalid_version", $"'{version}' is not a release version; use a number such as 3 or v3.");
            return db.FindRelease(name, number) is { } release
                ? Results.Json(Describe(release, db.CurrentRelease(name)?.Version, withConfig: true))
                : ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"{name} has no release v{number}.");
        });
        api.MapPost("/apps/{name}/releases/rollback", async (string name, RollbackRequest? body, HttpContext context, ReleaseService releases, IStateStore db, CancellationToken ct) =>
        {
            if (body?.Version is not { } version || version < 1)
                return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_version", "Say which release to roll back to, e.g. {\"version\": 3}.");
            try
            {
                var release = await releases.RollbackAsync(name, version, Caller.Of(context).Name, null, ct);
                return Results.Json(Describe(release, release.Version, withConfig: false), statusCode: StatusCodes.Status201Created);
            }
            catch (ReleaseException e)
            {
                return Problem(e);
            }
        });
    }

    public static int? ParseVersion(string text)
    {
        var digits = text.StartsWith('v') || text.StartsWith('V') ? text[1..] : text;
        return int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0 ? v : null;
    }

    public static object Describe(ReleaseRecord r, int? current, bool withConfig) => new
    {
        version = r.Version,
        description = r.Description.Length > 0 ? r.Description : $"Deploy {r.Commit[..Math.Min(7, r.Commit.Length)]}",
        image = r.Image,
        registry_image = r.RegistryImage,
        commit = r.Commit,
        buildpack = r.Buildpack,
        process_types = r.ProcessTypes,
        created_at = r.CreatedAt,
        current = r.Version == current,
        config = withConfig ? r.Config : null,
    };

    public static IResult Problem(ReleaseException e) => e.Problem switch
    {
        ReleaseProblem.Invalid => ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_config", e.Message),
        ReleaseProblem.NotFound => ApiError.Result(StatusCodes.Status404NotFound, "not_found", e.Message),
        ReleaseProblem.Conflict => ApiError.Result(StatusCodes.Status409Conflict, "conflict", e.Message),
        _ => ApiError.Result(StatusCodes.Status422UnprocessableEntity, "release_failed", e.Message),
    };
}
