using Paas.Controller.Auth;
using Paas.Controller.Deploys;
using Paas.Controller.State;
using Paas.Core.Apps;
using Paas.Core.Configuration;

namespace Paas.Controller.Git;

/// <summary>Authenticates git smart-HTTP requests for /APP.git/... and hands them to git http-backend.</summary>
public sealed class GitEndpoint(RequestAuthenticator authenticator, AppAccess access, GitHttpBackend backend, GitRepositories repositories, HookSecret hookSecret, PaasSettings settings)
{
    private static readonly HashSet<string> ServedPaths = ["info/refs", "git-receive-pack", "git-upload-pack"];

    public async Task HandleAsync(HttpContext context, string app, string rest)
    {
        if (authenticator.Authenticate(context.Request) is not { } token)
        {
            // git asks its credential helpers, then shows "Authentication failed" to the pusher.
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"Paas\", charset=\"UTF-8\"";
            await PlainAsync(context, StatusCodes.Status401Unauthorized, "Authentication required: run `paas git:remote APP` to set up credentials.");
            return;
        }
        // Someone else's app looks exactly like a missing one: pushing to it must not reveal that it exists.
        if (!AppName.IsValid(app) || !access.CanSee(Caller.From(token), app))
        {
            await PlainAsync(context, StatusCodes.Status404NotFound, $"No app named '{app}' exists.");
            return;
        }
        if (!ServedPaths.Contains(rest))
        {
            await PlainAsync(context, StatusCodes.Status404NotFound, "Not a git smart-HTTP path.");
            return;
        }
        // The app exists in the shared store, but this controller may not have its repository yet: it was created
        // on another controller and never pushed (pushes are copied here; creations are not).
        if (!repositories.Exists(app))
            repositories.Create(app);
        var hookEnvironment = HookContract.Environment(settings.LocalApiUrl, hookSecret, app);
        await backend.ServeAsync(context, app, rest, token.User, hookEnvironment);
    }

    private static async Task PlainAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message + "\n");
    }
}
