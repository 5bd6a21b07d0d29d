using System.Net;
using Paas.Controller.Deploys;

namespace Paas.Controller.Git;

/// <summary>
/// Everything the git hooks and the controller must agree on, in one place: the environment a push's hooks
/// get, the headers they send back to the controller, the status line that ends a deploy's output, and who
/// is admitted to a hook endpoint. The hook scripts (Git/pre-receive, Git/post-receive) are templates whose
/// <c>{{NAME}}</c> tokens are filled from here when they are installed, so a renamed header or variable is
/// renamed on both sides (HookContractTests fail on a token nobody fills).
/// </summary>
public static class HookContract
{
    // The environment git-http-backend passes to the hooks of one push.
    public const string UrlVariable = "PAAS_HOOK_URL";
    public const string SecretVariable = "PAAS_HOOK_SECRET";
    public const string ReplicateUrlVariable = "PAAS_REPLICATE_URL";
    public const string AppVariable = "PAAS_APP";

    // What the hooks send to the controller.
    public const string SecretHeader = "X-Paas-Hook-Secret";
    public const string AppHeader = "X-Paas-App";
    public const string UserHeader = "X-Paas-User";
    public const string RevisionHeader = "X-Paas-Revision";
    public const string QuarantineHeader = "X-Paas-Quarantine";

    /// <summary>The last line of a deploy's output: the pre-receive hook exits 0 only after "ok".</summary>
    public const string StatusPrefix = "@@paas-status ";

    public static string StatusLine(bool ok) => StatusPrefix + (ok ? "ok" : "failed");

    public static readonly IReadOnlyList<string> Hooks = ["pre-receive", "post-receive"];

    private static readonly IReadOnlyDictionary<string, string> Tokens = new Dictionary<string, string>
    {
        [nameof(UrlVariable)] = UrlVariable,
        [nameof(SecretVariable)] = SecretVariable,
        [nameof(ReplicateUrlVariable)] = ReplicateUrlVariable,
        [nameof(AppVariable)] = AppVariable,
        [nameof(SecretHeader)] = SecretHeader,
        [nameof(AppHeader)] = AppHeader,
        [nameof(UserHeader)] = UserHeader,
        [nameof(RevisionHeader)] = RevisionHeader,
        [nameof(QuarantineHeader)] = QuarantineHeader,
        [nameof(StatusPrefix)] = StatusPrefix,
    };

    /// <summary>A hook script with every <c>{{NAME}}</c> token replaced; throws on a token this contract does not know.</summary>
    public static string Render(string template)
    {
        var rendered = template;
        foreach (var (name, value) in Tokens)
            rendered = rendered.Replace("{{" + name + "}}", value, StringComparison.Ordinal);
        var left = rendered.IndexOf("{{", StringComparison.Ordinal);
        if (left >= 0)
            throw new InvalidOperationException($"The hook template has a token the contract does not know: {rendered[left..Math.Min(rendered.Length, left + 40)]}");
        return rendered;
    }

    /// <summary>The environment for the hooks of one push to <paramref name="app"/>.</summary>
    public static Dictionary<string, string> Environment(string apiUrl, HookSecret secret, string app) => new()
    {
        [UrlVariable] = apiUrl + HookEndpoint.Path,
        [SecretVariable] = secret.Value,
        [ReplicateUrlVariable] = apiUrl + ReplicationHookEndpoint.Path,
        [AppVariable] = app,
    };

    /// <summary>
    /// A hook endpoint answers only this controller's own hooks: over loopback, with this process's secret.
    /// The secret alone would do; loopback keeps the endpoint shut even if the secret leaked into a log.
    /// </summary>
    public static bool Admits(HttpContext context, HookSecret secret) =>
        context.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote)
        && secret.Matches(context.Request.Headers[SecretHeader].ToString());
}
