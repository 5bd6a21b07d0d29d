using System.Security.Cryptography;
using System.Text;

namespace Paas.Controller.Deploys;

/// <summary>
/// Called by the pre-receive hook (over loopback, with a per-process secret) to run the deploy; the
/// response is the deploy's output, streamed, ending with one status line for the hook.
/// </summary>
public sealed class HookEndpoint(Deployer deployer, HookSecret secret)
{
    public const string Path = "/internal/hooks/pre-receive";

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (!Git.HookContract.Admits(context, secret))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        var app = request.Headers[Git.HookContract.AppHeader].ToString();
        var revision = request.Headers[Git.HookContract.RevisionHeader].ToString();
        var quarantine = request.Headers[Git.HookContract.QuarantineHeader].ToString();
        var pusher = request.Headers[Git.HookContract.UserHeader].ToString() is { Length: > 0 } user ? user : "unknown";

        context.Response.ContentType = "text/plain; charset=utf-8";
        var body = context.Response.Body;
        async Task Write(string line)
        {
            await body.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), context.RequestAborted);
            await body.FlushAsync(context.RequestAborted);
        }
        var ok = await deployer.DeployAsync(app, revision, quarantine.Length == 0 ? null : quarantine, pusher, Write, context.RequestAborted);
        await Write(Git.HookContract.StatusLine(ok));
    }
}
