using Paas.Controller.Formation;
using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Instances;

namespace Paas.Controller.Heroku;

/// <summary>
/// Paas records in the JSON shapes of the Heroku Platform API v3 (https://devcenter.heroku.com/articles/platform-api-reference),
/// with the fields the Heroku CLI reads; fields that have no meaning on Paas (regions, spaces, teams) are null.
/// </summary>
public static class HerokuShapes
{
    /// <summary>Apps are on the "cedar" generation: the CLI treats others ("fir") as log-streaming only.</summary>
    private static readonly object Generation = new { id = "cedar", name = "cedar" };

    private static readonly object Stack = new { id = "paas", name = "paas" };

    public static object AppRef(string app) => new { id = HerokuIds.App(app), name = app };

    public static object User(string user) => new { id = HerokuIds.Account(user), email = user };

    public static object App(AppRecord app, ReleaseRecord? release, string owner, PaasSettings settings, string gitUrl, bool maintenance = false) => new
    {
        id = HerokuIds.App(app.Name),
        name = app.Name,
        created_at = app.CreatedAt,
        updated_at = release?.CreatedAt ?? app.CreatedAt,
        released_at = release?.CreatedAt,
        web_url = settings.AppUrl(app.Name),
        git_url = gitUrl,
        buildpack_provided_description = release?.Buildpack,
        build_stack = Stack,
        stack = Stack,
        generation = Generation,
        owner = User(owner),
        region = new { id = "local", name = "local" },
        organization = (object?)null,
        team = (object?)null,
        space = (object?)null,
        internal_routing = (bool?)null,
        maintenance,
        acm = false,
        archived_at = (DateTimeOffset?)null,
        repo_size = (long?)null,
        slug_size = (long?)null,
        process_tier = "production",
        stack_description = "Paas stack image",
    };

    public static object Account(string user, DateTimeOffset createdAt) => new
    {
        id = HerokuIds.Account(user),
        email = user,
        name = user,
        created_at = createdAt,
        updated_at = createdAt,
        verified = true,
        beta = false,
        allow_tracking = false,
        two_factor_authentication = false,
        federated = false,
        default_organization = (object?)null,
        default_team = (object?)null,
        delinquent_at = (DateTimeOffset?)null,
        suspended_at = (DateTimeOffset?)null,
        identity_provider = (object?)null,
        last_login = (DateTimeOffset?)null,
    };

    public static object Release(ReleaseRecord release, int current, bool eligibleForRollback, string description, string user) => new
    {
        id = HerokuIds.Release(release.App, release.Version),
        version = release.Version,
        description,
        status = "succeeded",
        current = release.Version == current,
        eligible_for_rollback = eligibleForRollback,
        created_at = release.CreatedAt,
        updated_at = release.CreatedAt,
        app = AppRef(release.App),
        user = User(user),
        slug = release.HasBuild ? new { id = HerokuIds.Release(release.App, release.Version) } : null,
        addon_plan_names = Array.Empty<string>(),
        artifacts = Array.Empty<object>(),
        output_stream_url = (string?)null,
    };

    public static object Formation(string app, FormationView view, DateTimeOffset updatedAt) => new
    {
        id = HerokuIds.Formation(app, view.Process),
        type = view.Process,
        quantity = view.Quantity,
        size = Size(view.MemoryMb),
        command = view.Command ?? "",
        app = AppRef(app),
        created_at = updatedAt,
        updated_at = updatedAt,
    };

    public static object Dyno(InstanceState instance, string state, string? command) => new
    {
        id = HerokuIds.Dyno(instance.InstanceId),
        name = $"{instance.Process}.{instance.Index}",
        type = instance.Process,
        state,
        command = command ?? "",
        size = Size(instance.MemoryLimitBytes / (1024 * 1024)),
        release = new { id = HerokuIds.Release(instance.App, instance.Release), version = instance.Release },
        app = AppRef(instance.App),
        attach_url = (string?)null,
        created_at = instance.Since,
        updated_at = instance.Since,
        extended = (object?)null,
        // Which cell runs it: the closest Paas has to Heroku's instance.
        cell = instance.Cell,
    };

    /// <param name="cname">Where a custom domain's DNS should point: the app's own host, which the router serves; null for that host itself.</param>
    /// <param name="sniEndpoint">The certificate serving it ({id, name}), if any.</param>
    public static object Domain(string app, string hostname, string kind, string? cname, DateTimeOffset createdAt, object? sniEndpoint = null) => new
    {
        id = HerokuIds.Domain(hostname),
        hostname,
        kind,
        cname,
        status = "succeeded",
        acm_status = (string?)null,
        acm_status_reason = (string?)null,
        sni_endpoint = sniEndpoint,
        app = AppRef(app),
        created_at = createdAt,
        updated_at = createdAt,
    };

    /// <summary>Paas sizes are memory limits, written as ps:scale accepts them back (web=2:512M).</summary>
    public static string Size(long memoryMb) => memoryMb % 1024 == 0 ? $"{memoryMb / 1024}G" : $"{memoryMb}M";
}
