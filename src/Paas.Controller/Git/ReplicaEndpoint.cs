using Paas.Core.Apps;

namespace Paas.Controller.Git;

/// <summary>
/// /internal/replicas/APP.git/...: git smart HTTP between controllers, authenticated with the
/// <see cref="ReplicationKey"/>. The leader pushes accepted pushes here (git push --mirror); a standby that
/// starts fetches from the leader's. No hooks run for these: the leader already deployed what it copies.
/// </summary>
public sealed class ReplicaEndpoint(ReplicationKey key, GitRepositories repositories, GitHttpBackend backend)
{
    public const string Prefix = "/internal/replicas";
    private static readonly HashSet<string> ServedPaths = ["info/refs", "git-receive-pack", "git-upload-pack"];

    public async Task HandleAsync(HttpContext context, string app, string rest)
    {
        if (!key.Matches(context.Request.Headers.Authorization.ToString()))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        if (!AppName.IsValid(app) || !ServedPaths.Contains(rest))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        if (!repositories.Exists(app))
            repositories.Create(app);
        await backend.ServeAsync(context, app, rest, "replication", NoHooks);
    }

    /// <summary>Configuration given to git through its environment, which outranks the repository's own.</summary>
    public static readonly IReadOnlyDictionary<string, string> NoHooks = new Dictionary<string, string>
    {
        ["GIT_CONFIG_COUNT"] = "2",
        ["GIT_CONFIG_KEY_0"] = "core.hooksPath",
        ["GIT_CONFIG_VALUE_0"] = "/dev/null",
        ["GIT_CONFIG_KEY_1"] = "http.receivepack",
        ["GIT_CONFIG_VALUE_1"] = "true",
    };
}
