using System.Net;
using Paas.Controller.Api;
using Yarp.ReverseProxy.Forwarder;

namespace Paas.Controller.Leadership;

/// <summary>
/// On a standby, every request that would change something (API writes, git pushes) goes to the leader,
/// streamed both ways (a push's build output reaches the pusher live), so users and `paas` may talk to any
/// controller. Reads (API GETs, clones and fetches) are answered here from the shared store. With no leader
/// known, or one that does not answer, a write is refused with 503 <c>no_leader</c> and one sentence.
/// </summary>
public sealed class LeaderForwarding(ILeadership leadership, IHttpForwarder forwarder, ILogger<LeaderForwarding> logger)
{
    /// <summary>Set on forwarded requests: a controller that is not the leader either refuses them instead of forwarding again (no loops).</summary>
    public const string ForwardedByHeader = "X-Paas-Forwarded-By";

    private readonly HttpMessageInvoker _client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(3),
        ActivityHeadersPropagator = null,
    });

    // A push's build can be quiet for minutes (a compile step); the forwarder must not cut it off.
    private static readonly ForwarderRequestConfig Config = new() { ActivityTimeout = TimeSpan.FromMinutes(20) };

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (leadership.IsLeader || !IsWrite(context.Request))
        {
            await next(context);
            return;
        }
        var leader = leadership.Leader;
        if (leader is null || leader.Id == leadership.Self.Id || context.Request.Headers.ContainsKey(ForwardedByHeader))
        {
            await NoLeaderAsync(context, "No controller holds the leadership right now (one takes over within 10 s); try again shortly.");
            return;
        }
        var error = await forwarder.SendAsync(context, leader.Address, _client, Config, new MarkForwarded(leadership.Self.Id));
        if (error != ForwarderError.None)
        {
            logger.LogWarning("Forwarding {Method} {Path} to the leader {Leader} failed: {Error}", context.Request.Method, context.Request.Path, leader.Address, error);
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await NoLeaderAsync(context, $"The leader controller ({leader.Address}) did not answer; a standby takes over within 10 s, try again shortly.");
            }
        }
    }

    /// <summary>
    /// What must run on the leader: anything but GET, HEAD and OPTIONS, and a git push (whose first request,
    /// info/refs?service=git-receive-pack, is a GET). A fetch's POST to git-upload-pack only reads.
    /// Internal paths (the git hooks' callbacks, replication) are this controller's own business.
    /// </summary>
    public static bool IsWrite(HttpRequest request)
    {
        var path = request.Path.Value ?? "";
        if (path.StartsWith("/internal/", StringComparison.Ordinal))
            return false;
        if (path.EndsWith(".git/git-upload-pack", StringComparison.Ordinal))
            return false;
        // A Heroku log session is a ticket for the log stream of the controller that issued it (kept in its
        // memory, nothing stored): the stream is read from this controller, so the session is made here too.
        if (path.EndsWith("/log-sessions", StringComparison.Ordinal))
            return false;
        if (path.EndsWith(".git/git-receive-pack", StringComparison.Ordinal)
            || (path.EndsWith(".git/info/refs", StringComparison.Ordinal) && request.Query["service"] == "git-receive-pack"))
            return true;
        return !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method));
    }

    private static async Task NoLeaderAsync(HttpContext context, string message)
    {
        context.Response.Headers.RetryAfter = "2";
        await ApiError.Result(StatusCodes.Status503ServiceUnavailable, "no_leader", message).ExecuteAsync(context);
    }

    private sealed class MarkForwarded(string self) : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await Default.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            proxyRequest.Headers.TryAddWithoutValidation(ForwardedByHeader, self);
            // The leader sees the original Host, so the URLs it writes into answers are the ones the user called.
            proxyRequest.Headers.Host = httpContext.Request.Host.Value;
        }
    }
}
