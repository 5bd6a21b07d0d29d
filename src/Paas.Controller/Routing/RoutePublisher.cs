using System.Text.Json;
using Paas.Core.Routing;
using StackExchange.Redis;

namespace Paas.Controller.Routing;

/// <summary>
/// Writes the routing table to Redis and announces each write on the change channel, which routers
/// apply to their in-memory tables.
/// </summary>
public sealed class RoutePublisher(IConnectionMultiplexer redis, RouteKeys keys)
{
    private readonly RouteWriter _writer = new(redis, keys);

    private IDatabase Db => redis.GetDatabase();

    public Task SetHostAsync(string host, string app) => _writer.SetHostAsync(host, app);

    /// <summary>Sets the host only if Redis lacks it (it was flushed), so periodic passes do not churn every router's table.</summary>
    public async Task EnsureHostAsync(string host, string app)
    {
        if (await Db.HashGetAsync(keys.Hosts, host) != app)
            await SetHostAsync(host, app);
    }

    public Task RemoveHostAsync(string host) => _writer.RemoveHostAsync(host);

    /// <returns>The write's version, for <see cref="WaitAppliedAsync"/>.</returns>
    public Task<long> AddRouteAsync(RouteEntry entry) => _writer.SetRouteAsync(entry.Instance, JsonSerializer.Serialize(entry));

    /// <returns>The write's version, for <see cref="WaitAppliedAsync"/>.</returns>
    public Task<long> RemoveRouteAsync(string instanceId) => _writer.RemoveRouteAsync(instanceId);

    public async Task<IReadOnlyList<RouteEntry>> RoutesOfAppAsync(string app)
    {
        var all = await Db.HashGetAllAsync(keys.Routes);
        return all
            .Select(e => TryParse(e.Value))
            .Where(r => r is not null && r.App == app)
            .Select(r => r!)
            .ToList();
    }

    private static RouteEntry? TryParse(RedisValue value)
    {
        try
        {
            return JsonSerializer.Deserialize<RouteEntry>(value.ToString());
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Waits until every live router serves the table at <paramref name="version"/> or later (see
    /// <see cref="RouterAcknowledgement"/>), so a deploy reports success only once traffic can reach the new
    /// instance, and an old one stops only once no router sends it traffic. False when the timeout passes
    /// first, or no router is live.
    /// </summary>
    public async Task<bool> WaitAppliedAsync(long version, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            var (live, behind) = await RoutersAsync(version);
            if (live > 0 && behind == 0)
                return true;
            if (time.GetUtcNow() >= deadline)
                return false;
            await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken);
        }
    }

    /// <summary>How many routers are live, and how many of those serve a table older than <paramref name="version"/>.</summary>
    public async Task<(int Live, int Behind)> RoutersAsync(long version)
    {
        var routers = await Db.HashKeysAsync(keys.Routers);
        if (routers.Length == 0)
            return (0, 0);
        var applied = await Db.StringGetAsync(routers.Select(r => (RedisKey)keys.RouterApplied(r.ToString())).ToArray());
        var live = 0;
        var behind = 0;
        for (var i = 0; i < routers.Length; i++)
        {
            if (applied[i].IsNull)
            {
                // Gone (its key expired): it no longer counts, and a restarted router enrolls again.
                _ = Db.HashDeleteAsync(keys.Routers, routers[i], CommandFlags.FireAndForget);
                continue;
            }
            live++;
            if (!long.TryParse(applied[i].ToString(), out var at) || at < version)
                behind++;
        }
        return (live, behind);
    }
}
