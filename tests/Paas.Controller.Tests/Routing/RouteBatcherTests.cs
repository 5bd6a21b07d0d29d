using Paas.Controller.Routing;
using Paas.Core.Routing;

namespace Paas.Controller.Tests.Routing;

public sealed class RouteBatcherTests
{
    private static RouteEntry Route(int n) => new($"app-web-{n}", "app", "web", 1, $"127.0.0.1:{40000 + n}", "cell-a");

    /// <summary>A publisher whose acknowledgement waits block until the test lets them go.</summary>
    private sealed class FakeRoutes
    {
        public List<IReadOnlyList<RouteEntry>> Published { get; } = [];
        public List<long> Waited { get; } = [];
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _version;

        public Task<long> PublishAsync(IReadOnlyList<RouteEntry> batch)
        {
            lock (Published)
                Published.Add(batch);
            return Task.FromResult(Interlocked.Add(ref _version, batch.Count));
        }

        public async Task<bool> WaitAsync(long version, CancellationToken cancellationToken)
        {
            lock (Waited)
                Waited.Add(version);
            await Release.Task;
            return true;
        }
    }

    [Fact]
    public async Task Burst_WhileABatchWaits_IsPublishedAndAwaitedAsOneBatch()
    {
        var routes = new FakeRoutes();
        var batcher = new RouteBatcher(routes.PublishAsync, routes.WaitAsync);

        // The first route goes out alone at once; nineteen more arrive while its acknowledgement is awaited.
        var first = batcher.RouteAsync(Route(1), CancellationToken.None);
        while (routes.Waited.Count == 0)
            await Task.Delay(1);
        var rest = Enumerable.Range(2, 19).Select(n => batcher.RouteAsync(Route(n), CancellationToken.None)).ToList();
        routes.Release.SetResult();
        var results = await Task.WhenAll(rest.Prepend(first));

        Assert.All(results, Assert.True);
        Assert.Equal([1, 19], routes.Published.Select(b => b.Count));
        Assert.Equal([1L, 20L], routes.Waited);
        Assert.Equal(Enumerable.Range(1, 20).Select(n => $"app-web-{n}"), routes.Published.SelectMany(b => b).Select(r => r.Instance));
    }

    [Fact]
    public async Task FailedPublication_FailsEveryRouteOfItsBatch_AndTheNextBatchStillGoesOut()
    {
        var calls = 0;
        var batcher = new RouteBatcher(
            _ => ++calls == 1 ? Task.FromException<long>(new InvalidOperationException("redis down")) : Task.FromResult(7L),
            (_, _) => Task.FromResult(true));

        await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.RouteAsync(Route(1), CancellationToken.None));
        Assert.True(await batcher.RouteAsync(Route(2), CancellationToken.None));
    }
}
