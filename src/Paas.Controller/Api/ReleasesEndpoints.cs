using Paas.Controller.Auth;
using Paas.Controller.Releases;
using Paas.Controller.State;
using Paas.Core.Api;

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
            var deploys = db.Deploys(name).ToDictionary(d => d.Version);
            var releases = db.ListReleases(name, int.MaxValue);
            // A deploy that never became a release (failed, rolled back, under way) is listed in its version's place.
            var rows = releases.Select(r => (r.Version, Release: (ReleaseRecord?)r, Deploy: deploys.GetValueOrDefault(r.Version)))
                .Concat(deploys.Values.Where(d => releases.All(r => r.Version != d.Version)).Select(d => (d.Version, Release: (ReleaseRecord?)null, Deploy: (DeployRecord?)d)))
                .OrderByDescending(row => row.Version);
            return Paging.Page(context, rows, row => "v" + row.Version,
                row => row.Release is { } release ? Describe(release, current, withConfig: false, row.Deploy) : DescribeUnreleased(row.Deploy!));
        });
        api.MapGet("/apps/{name}/releases/{version}", (string name, string version, IStateStore db) =>
        {
            if (ParseVersion(version) is not { } number)
                return ApiError.Result(StatusCodes.Status400BadRequest, "invalid_version", $"'{version}' is not a release version; use a number such as 3 or v3.");
            if (db.FindRelease(name, number) is { } release)
                return Results.Json(Describe(release, db.CurrentRelease(name)?.Version, withConfig: true, db.FindDeploy(name, number)));
            return db.FindDeploy(name, number) is { } deploy
                ? Results.Json(DescribeUnreleased(deploy))
                : ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"{name} has no release v{number}.");
        });
        api.MapGet("/apps/{name}/releases/{version}/output", (string name, string version, IStateStore db, BuildOutputs outputs) =>
        {
            if (ParseVersion(version) is not { } number)
                return ApiError.Result(StatusCodes.Status400BadRequest, "invalid_version", $"'{version}' is not a release version; use a number such as 3 or v3.");
            if (db.FindRelease(name, number) is null)
                return ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"{name} has no release v{number}.");
            return outputs.Read(name, number) is { } output
                ? Results.Json(new { version = number, output })
                : ApiError.Result(StatusCodes.Status404NotFound, "no_build_output", $"v{number} of {name} has no build output (config changes, rollbacks, releases older than the kept ones and releases made before outputs were kept have none).");
        }).WithName("getReleaseOutput").WithSummary("The build output of a release (its last 1 MB)");
        api.MapPost("/apps/{name}/releases/rollback", async (string name, RollbackRequest? body, HttpContext context, ReleaseService releases, Operations.ReleaseOutcomes outcomes, IStateStore db, CancellationToken ct) =>
        {
            if (body?.Version is not { } version || version < 1)
                return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_version", "Say which release to roll back to, e.g. {\"version\": 3}.");
            if (Operations.ProgressStream.IsWanted(context) && db.FindApp(name) is not null)
            {
                var actor = Caller.Of(context).Name;
                return await Operations.ProgressStream.RunAsync(context, name, stopping =>
                    outcomes.OfAsync(name, stopping, () => releases.RollbackAsync(name, version, actor, null, stopping)));
            }
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

        // The deploy's lines come back in the answer (a prebuilt image has no build to watch); credentials are never echoed.
        api.MapPost("/apps/{name}/deploys/image", async (string name, ImageDeployRequest? body, HttpContext context, Deploys.Deployer deployer, IStateStore db, CancellationToken ct) =>
        {
            var image = body?.Image?.Trim();
            if (string.IsNullOrEmpty(image) || image.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_image", "Say which image to deploy, e.g. {\"image\": \"registry.example.com/team/app:1.2\"}.");
            if (db.FindApp(name) is null)
                return ApiError.Result(StatusCodes.Status404NotFound, "not_found", $"There is no app named {name}.");
            var lines = new List<string>();
            var ok = await deployer.DeployImageAsync(name, image, body!.Username, body.Password, Caller.Of(context).Name, line =>
            {
                lock (lines)
                    lines.Add(line);
                return Task.CompletedTask;
            }, ct);
            var current = db.CurrentRelease(name);
            if (!ok)
            {
                var reason = lines.LastOrDefault(l => l.StartsWith(" !     Push rejected: ", StringComparison.Ordinal))?[" !     Push rejected: ".Length..] ?? "The image deploy failed.";
                return Results.Json(new { error = "deploy_failed", message = reason, output = lines }, statusCode: StatusCodes.Status422UnprocessableEntity);
            }
            return Results.Json(new { version = current?.Version, image = current?.Image, digest = current?.Description.Replace("Deploy image ", "", StringComparison.Ordinal), output = lines }, statusCode: StatusCodes.Status201Created);
        });
    }

    /// <summary>`paas deploy:image`: the body names the image (and, for a private registry, credentials used for this pull only).</summary>
    public sealed record ImageDeployRequest(string? Image, string? Username, string? Password);

    public static int? ParseVersion(string text)
    {
        var digits = text.StartsWith('v') || text.StartsWith('V') ? text[1..] : text;
        return int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0 ? v : null;
    }

    /// <summary>A release; <paramref name="deploy"/> (its deploy record, if any) gives its status, else it is "released".</summary>
    public static ReleaseResponse Describe(ReleaseRecord r, int? current, bool withConfig, DeployRecord? deploy = null) => new(
        Version: r.Version,
        Description: r.Description.Length > 0 ? r.Description : $"Deploy {r.Commit[..Math.Min(7, r.Commit.Length)]}",
        Image: r.Image,
        RegistryImage: r.RegistryImage,
        Commit: r.Commit,
        Buildpack: r.Buildpack,
        ProcessTypes: r.ProcessTypes,
        CreatedAt: r.CreatedAt,
        Current: r.Version == current,
        Config: withConfig ? r.Config : null,
        Status: DeployRecord.Describe(deploy?.Phase ?? DeployPhase.Released),
        StatusReason: deploy?.Reason ?? "",
        Resumed: deploy?.Resumed ?? false);

    /// <summary>A deploy that has no release (yet, or ever): the same fields, its status saying why.</summary>
    public static ReleaseResponse DescribeUnreleased(DeployRecord d) => new(
        Version: d.Version,
        Description: d.Release?.Description is { Length: > 0 } description ? description : $"Deploy {d.Commit[..Math.Min(7, d.Commit.Length)]}",
        Image: d.Release?.Image,
        RegistryImage: d.Release?.RegistryImage,
        Commit: d.Commit,
        Buildpack: d.Release?.Buildpack,
        ProcessTypes: d.Release?.ProcessTypes,
        CreatedAt: d.StartedAt,
        Current: false,
        Config: null,
        Status: DeployRecord.Describe(d.Phase),
        StatusReason: d.Reason,
        Resumed: d.Resumed);

    public static IResult Problem(ReleaseException e) => e.Problem switch
    {
        ReleaseProblem.Invalid => ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_config", e.Message),
        ReleaseProblem.NotFound => ApiError.Result(StatusCodes.Status404NotFound, "not_found", e.Message),
        ReleaseProblem.Conflict => ApiError.Result(StatusCodes.Status409Conflict, "conflict", e.Message),
        _ => ApiError.Result(StatusCodes.Status422UnprocessableEntity, "release_failed", e.Message),
    };
}
