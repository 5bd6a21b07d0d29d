using System.Text;
using Paas.Controller.Deploys;

namespace Paas.Controller.Git;

/// <summary>Called by the post-receive hook (loopback, the hook secret): copies the pushed repository to the standbys, streaming what happened.</summary>
public sealed class ReplicationHookEndpoint(RepositoryReplicator replicator, HookSecret secret)
{
    public const string Path = "/internal/hooks/post-receive";

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HookContract.Admits(context, secret))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        var app = request.Headers[HookContract.AppHeader].ToString();
        if (!Paas.Core.Apps.AppName.IsValid(app))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        context.Response.ContentType = "text/plain; charset=utf-8";
        await replicator.ReplicateAsync(app, async line =>
        {
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }, context.RequestAborted);
    }
}
