using System.Net;
using System.Net.Sockets;
using Paas.Router.Forwarding.Http1;

namespace Paas.Router.Tests.Forwarding.Http1;

/// <summary>The one timer behind backend timeouts and idle connections, driven with explicit clock values against real sockets.</summary>
public sealed class BackendConnectionMonitorTests : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly BackendConnectionMonitor _monitor = new(TimeProvider.System);
    private readonly BackendConnectionPool _pool;

    public BackendConnectionMonitorTests()
    {
        _listener.Start();
        _pool = BackendConnectionPool.For($"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
    }

    [Fact]
    public async Task ARequestQuietForLongerThanItsTimeoutIsEndedAndMarkedTimedOut()
    {
        var connection = await _pool.ConnectAsync(_monitor);
        var now = Environment.TickCount64;
        connection.Begin(timeoutMs: 1000, now);

        _monitor.Check(now + 900);
        Assert.False(connection.TimedOut);

        _monitor.Check(now + 1100);
        Assert.True(connection.TimedOut);
        await Assert.ThrowsAnyAsync<Exception>(async () => await connection.ReceiveAsync());
    }

    [Fact]
    public async Task AnIdleConnectionPastTheIdleTimeoutIsClosedAndLeavesItsPool()
    {
        var connection = await _pool.ConnectAsync(_monitor);
        _pool.Return(connection);
        Assert.Equal(1, _pool.IdleCount);

        _monitor.Check(Environment.TickCount64 + (long)BackendConnectionMonitor.IdleTimeout.TotalMilliseconds / 2);
        Assert.Equal(1, _pool.IdleCount);

        _monitor.Check(Environment.TickCount64 + (long)BackendConnectionMonitor.IdleTimeout.TotalMilliseconds + 1000);
        Assert.Equal(0, _pool.IdleCount);
        Assert.Null(_pool.TryRent());
    }

    public void Dispose()
    {
        _monitor.Dispose();
        _listener.Stop();
    }
}
