using System.Net;
using System.Net.Sockets;
using Paas.Controller.Cells;

namespace Paas.Controller.Tests.Cells;

/// <summary>The cell client's error paths: what a hung or vanished agent looks like to its callers.</summary>
public sealed class RemoteCellTests
{
    [Fact]
    public async Task AHungAgent_IsAnUnavailableCell_NotACancellation()
    {
        // Accepts connections and never answers, as an agent stuck in a long GC or a dead disk would.
        using var hung = new TcpListener(IPAddress.Loopback, 0);
        hung.Start();
        using var handler = new SocketsHttpHandler();
        var cell = new RemoteCell("stuck", $"http://127.0.0.1:{((IPEndPoint)hung.LocalEndpoint).Port}", "secret", handler, TimeSpan.FromMilliseconds(300));

        var error = await Assert.ThrowsAsync<CellUnavailableException>(() => cell.ListAsync(CancellationToken.None));

        Assert.Contains("did not answer within", error.Message);
    }

    [Fact]
    public async Task AGoneAgent_IsAnUnavailableCell()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        using var handler = new SocketsHttpHandler();
        var cell = new RemoteCell("gone", $"http://127.0.0.1:{port}", "secret", handler);

        var error = await Assert.ThrowsAsync<CellUnavailableException>(() => cell.ListAsync(CancellationToken.None));

        Assert.Contains("is unreachable", error.Message);
    }

    [Fact]
    public async Task TheCallersOwnCancellation_StaysACancellation()
    {
        using var hung = new TcpListener(IPAddress.Loopback, 0);
        hung.Start();
        using var handler = new SocketsHttpHandler();
        var cell = new RemoteCell("stuck", $"http://127.0.0.1:{((IPEndPoint)hung.LocalEndpoint).Port}", "secret", handler);
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cell.ListAsync(stop.Token));
    }
}
