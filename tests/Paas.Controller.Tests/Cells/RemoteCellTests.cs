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

    [Fact]
    public async Task OneAppsListing_AsksTheAgentForThatApp_AndKeepsOnlyItsInstances_FromAnAgentThatIgnoresTheFilter()
    {
        // An agent from before the filter: it answers every app's instances whatever the query says.
        var asked = new List<string>();
        using var handler = new StubHandler(request =>
        {
            asked.Add(request.RequestUri!.PathAndQuery);
            var all = new[] { Instance("web-1", "shop"), Instance("web-2", "blog"), Instance("web-3", "shop") };
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = System.Net.Http.Json.JsonContent.Create(all) };
        });
        // As the controller holds it (CellDirectory hands out ICell).
        Paas.Core.Cells.ICell cell = new RemoteCell("cell1", "http://cell1.invalid:8091", "secret", handler);

        var listed = await cell.ListAsync("shop", CancellationToken.None);

        Assert.Equal(["/v1/instances?app=shop"], asked);
        Assert.Equal(["web-1", "web-3"], listed.Select(i => i.InstanceId));
    }

    private static Paas.Core.Instances.InstanceState Instance(string id, string app) =>
        new(id, "c-" + id, app, 1, "web", 1, "cell1", true, "10.0.0.1:3000", DateTimeOffset.UnixEpoch);

    private sealed class StubHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer(request));
    }
}
