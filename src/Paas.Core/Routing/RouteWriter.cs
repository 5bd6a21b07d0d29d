using System.Text.Json;
using StackExchange.Redis;

namespace Paas.Core.Routing;

/// <summary>
/// The one way to change the routing hashes: each write and the increment of <see cref="RouteKeys.Version"/>
/// happen in one transaction, then the change is published carrying the new version. Routers rely on
/// that pairing to know, from one counter, whether their table has missed anything (see RedisRouteSource).
/// </summary>
public sealed class RouteWriter(IConnectionMultiplexer redis, RouteKeys keys)
{
    public Task<long> SetHostAsync(string host, string app) => SetAsync(keys.Hosts, RouteChange.HostSet, host, app);

    public Task<long> RemoveHostAsync(string host) => RemoveAsync(keys.Hosts, RouteChange.HostDel, host);

    public Task<long> SetRouteAsync(RouteEntry entry) => SetRouteAsync(entry.Instance, RoutingJson.Write(entry));

    /// <summary>Several routes in one transaction, in the one wire format (<see cref="RoutingJson"/>).</summary>
    public Task<long> SetRoutesAsync(IReadOnlyList<RouteEntry> entries) =>
        SetRoutesAsync(entries.Select(e => (e.Instance, RoutingJson.Write(e))).ToList());

    public Task<long> SetAppOptionsAsync(string app, AppRouteOptions options) => SetAppOptionsAsync(app, RoutingJson.Write(options));

    /// <summary>Writes an already serialised value as it is (tests write hostile values this way).</summary>
    /// <param name="json">The <see cref="RouteEntry"/> JSON, stored and published as is.</param>
    public Task<long> SetRouteAsync(string instance, string json) => SetAsync(keys.Routes, RouteChange.RouteSet, instance, json);

    /// <summary>
    /// Several routes in one transaction: each field still gets its own version and message, in order, so
    /// routers apply them as they apply single writes; the writer waits once, for the last version.
    /// </summary>
    /// <returns>The version of the last write.</returns>
    public async Task<long> SetRoutesAsync(IReadOnlyList<(string Instance, string Json)> routes)
    {
        if (routes.Count == 0)
            return 0;
        var transaction = redis.GetDatabase().CreateTransaction();
        var versions = new List<Task<long>>(routes.Count);
        foreach (var (instance, json) in routes)
        {
            _ = transaction.HashSetAsync(keys.Routes, instance, json);
            versions.Add(transaction.StringIncrementAsync(keys.Version));
        }
        await transaction.ExecuteAsync();
        var subscriber = redis.GetSubscriber();
        // Sent in version order on one connection, so they arrive in order.
        var published = new List<Task>(routes.Count);
        for (var i = 0; i < routes.Count; i++)
            published.Add(subscriber.PublishAsync(RedisChannel.Literal(keys.Changes),
                RoutingJson.Write(new RouteChange(RouteChange.RouteSet, routes[i].Instance, routes[i].Json, await versions[i]))));
        await Task.WhenAll(published);
        return await versions[^1];
    }

    public Task<long> RemoveRouteAsync(string instance) => RemoveAsync(keys.Routes, RouteChange.RouteDel, instance);

    /// <param name="json">The <see cref="AppRouteOptions"/> JSON, stored and published as is.</param>
    public Task<long> SetAppOptionsAsync(string app, string json) => SetAsync(keys.AppOptions, RouteChange.AppOptionsSet, app, json);

    public Task<long> RemoveAppOptionsAsync(string app) => RemoveAsync(keys.AppOptions, RouteChange.AppOptionsDel, app);

    /// <summary>
    /// Bumps the version as a write would, without writing or publishing: what a lost message looks like
    /// to a router. For tests of the healing path.
    /// </summary>
    public Task<long> SkipVersionAsync() => redis.GetDatabase().StringIncrementAsync(keys.Version);

    private async Task<long> SetAsync(string hash, string kind, string field, string value)
    {
        var transaction = redis.GetDatabase().CreateTransaction();
        _ = transaction.HashSetAsync(hash, field, value);
        var version = transaction.StringIncrementAsync(keys.Version);
        return await CommitAndPublishAsync(transaction, version, kind, field, value);
    }

    private async Task<long> RemoveAsync(string hash, string kind, string field)
    {
        var transaction = redis.GetDatabase().CreateTransaction();
        _ = transaction.HashDeleteAsync(hash, field);
        var version = transaction.StringIncrementAsync(keys.Version);
        return await CommitAndPublishAsync(transaction, version, kind, field, null);
    }

    /// <returns>The version of the write (see <see cref="RouterAcknowledgement"/>).</returns>
    private async Task<long> CommitAndPublishAsync(ITransaction transaction, Task<long> version, string kind, string field, string? value)
    {
        // Published after the commit, so a router that reads the counter in between sees a version it has
        // no message for yet and reloads once: wasted work, never a wrong table.
        await transaction.ExecuteAsync();
        var change = new RouteChange(kind, field, value, await version);
        await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(keys.Changes), RoutingJson.Write(change));
        return change.Version!.Value;
    }
}
