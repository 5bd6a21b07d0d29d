using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// A tiny app instance on a loopback port chosen by the OS. It answers with its name and echoes the
/// headers the router is responsible for, so tests can see what an app really receives.
/// </summary>
internal sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestBackend(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>host:port, as the controller would write it into the routes hash.</summary>
    public string Address { get; }

    public static async Task<TestBackend> StartAsync(string body)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Run(async context =>
        {
            foreach (var name in new[] { "Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Request-Id" })
            {
                context.Response.Headers["X-Seen-" + name] = context.Request.Headers[name].ToString();
            }

            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync(body);
        });
        await app.StartAsync();

        var url = new Uri(app.Urls.Single());
        return new TestBackend(app, $"127.0.0.1:{url.Port}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
