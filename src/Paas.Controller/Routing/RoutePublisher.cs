using System.Net.Http.Json;
using System.Text.Json;
using Paas.Core.Routing;
using StackExchange.Redis;

namespace Paas.Controller.Routing;

/// <summary>
/// Writes the routing table to Redis and announces each write on the change channel, which routers
/// apply to their in-memory tables.
/// </summary>
public sealed class RoutePublisher(IConnectionMultiplexer redis, RouteKeys keys, HttpClient routerAdmin)
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

    public Task AddRouteAsync(RouteEntry entry) => _writer.SetRouteAsync(entry.Instance, JsonSerializer.Serialize(entry));

    public Task RemoveRouteAsync(string instanceId) => _writer.RemoveRouteAsync(instanceId);

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
    /// Waits until the local router's in-memory table lists the instance under the host (or, with
    /// <paramref name="present"/> false, no longer lists it), so a deploy reports success only once
    /// traffic reaches the new instance, and an old one stops only once traffic has left it.
    /// </summary>
    public async Task<bool> WaitRoutedAsync(string host, string instanceId, bool present, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        while (time.GetUtcNow() < deadline)
        {
            try
            {
                var table = await routerAdmin.GetFromJsonAsync<JsonElement>("routes", cancellationToken);
                var listed = table.TryGetProperty("hosts", out var hosts) && hosts.TryGetProperty(host, out var entry)
                    && entry.TryGetProperty("endpoints", out var endpoints)
                    && endpoints.EnumerateArray().Any(e => e.TryGetProperty("instance", out var i) && i.GetString() == instanceId);
                if (listed == present)
                    return true;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken);
        }
        return false;
    }
}
