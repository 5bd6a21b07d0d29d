namespace Paas.Router.Tests.Integration;

/// <summary>
/// Two routers on one route table, one per front end of the public port (the event loop and Kestrel alone), in
/// front of one app: for tests that send both the same bytes and compare the answers.
/// </summary>
public abstract class FrontEndPair : IAsyncLifetime
{
    private readonly RouterFixture _fixture = new();
    private IAsyncDisposable _backend = null!;

    public RouterProcess EventLoop => _fixture.Router;

    public RouterProcess Kestrel { get; private set; } = null!;

    public string Host { get; } = $"pair-{Guid.NewGuid():N}"[..14] + ".localhost";

    /// <summary>The routers' Redis and helpers (requests, waits), shared by both.</summary>
    public RouterFixture Fixture => _fixture;

    /// <summary>Sets the app's routing options (<see cref="Paas.Core.Routing.AppRouteOptions"/> JSON) for both routers.</summary>
    public Task SetOptionsAsync(object options) => _fixture.SetOptionsAsync("pair", options);

    /// <summary>Starts the app both routers forward to; returns its host:port and what stops it.</summary>
    protected abstract Task<(string Address, IAsyncDisposable Stop)> StartAppAsync();

    public async Task InitializeAsync()
    {
        await _fixture.InitializeAsync();
        Kestrel = await _fixture.StartRouterAsync(new Dictionary<string, string> { ["PAAS_ROUTER_FRONT_END"] = "kestrel" });
        var (address, stop) = await StartAppAsync();
        _backend = stop;
        await _fixture.SetHostAsync(Host, "pair");
        await _fixture.SetRouteAsync("pair-web-0", "pair", address);
        await _fixture.WaitForEndpointsAsync(Host, 1, EventLoop);
        await _fixture.WaitForEndpointsAsync(Host, 1, Kestrel);
    }

    public async Task DisposeAsync()
    {
        await Kestrel.DisposeAsync();
        await _backend.DisposeAsync();
        await _fixture.DisposeAsync();
    }
}
