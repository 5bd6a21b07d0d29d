using StackExchange.Redis;

namespace Paas.Core.Configuration;

/// <summary>
/// The one way every component (controller, cell agent, router) connects to Redis from PAAS_REDIS, a
/// StackExchange.Redis configuration string passed through unchanged:
/// <c>127.0.0.1:6379,password=…</c> for one Redis, or the sentinels and the name they know the primary
/// by, <c>10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379,serviceName=paas,password=…</c> (the password is
/// the primary's; <c>sentinelPassword=…</c> if the sentinels want one too).
///
/// Components start, and keep going, while Redis is away: the multiplexer reconnects by itself, and
/// through Sentinel it follows a failover to the new primary, subscriptions included.
/// </summary>
public static class RedisConnection
{
    /// <summary>The parsed configuration, made to come up without Redis.</summary>
    /// <exception cref="ArgumentException">Not a configuration string.</exception>
    public static ConfigurationOptions Options(string configuration, string clientName)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ClientName ??= clientName;
        return options;
    }

    /// <summary>Whether the configuration names sentinels (it has a service name) rather than Redis itself.</summary>
    public static bool IsSentinel(ConfigurationOptions options) => !string.IsNullOrEmpty(options.ServiceName);

    /// <summary>
    /// Connects; returns while Redis (or every sentinel) is down, and the multiplexer keeps trying: through
    /// Sentinel it asks the sentinels for the primary every second until one names it (StackExchange.Redis
    /// 3.4, checked with the sentinels down at start and with sentinels that did not know the service yet).
    /// Should a Sentinel connect throw all the same, it is tried again; <paramref name="report"/> hears of it.
    /// </summary>
    public static async Task<ConnectionMultiplexer> ConnectAsync(string configuration, string clientName,
        Action<string>? report = null, CancellationToken stop = default)
    {
        var options = Options(configuration, clientName);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ConnectionMultiplexer.ConnectAsync(options.Clone()).WaitAsync(stop);
            }
            catch (RedisConnectionException ex) when (IsSentinel(options) && !stop.IsCancellationRequested)
            {
                if (attempt == 1 || attempt % 20 == 0)
                {
                    report?.Invoke($"no primary for service {options.ServiceName} from the sentinels yet ({ex.Message}); still asking");
                }

                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 3)), stop);
            }
        }
    }
}
