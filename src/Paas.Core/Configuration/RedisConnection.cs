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
    /// Connects; returns at once when Redis is down (the multiplexer keeps trying), and through Sentinel
    /// keeps asking until a sentinel names a primary. <paramref name="report"/> hears about the waiting.
    /// </summary>
    public static async Task<ConnectionMultiplexer> ConnectAsync(string configuration, string clientName,
        Action<string>? report = null, CancellationToken stop = default)
    {
        var options = Options(configuration, clientName);
        if (!IsSentinel(options))
        {
            return await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(stop);
        }

        // ConnectionMultiplexer.ConnectAsync would do the Sentinel part too, but it throws when no
        // sentinel names a primary (AbortOnConnectFail or not) and leaves its sentinel connection open
        // behind it; retried through an outage that is one more open connection per attempt. So: one
        // sentinel connection, asked until it names a primary. It stays open for the process's lifetime:
        // it is what hears of a failover and moves the returned connection to the new primary.
        var sentinelOptions = options.Clone();
        sentinelOptions.User = options.SentinelUser;
        sentinelOptions.Password = options.SentinelPassword;
        var sentinels = await ConnectionMultiplexer.SentinelConnectAsync(sentinelOptions).WaitAsync(stop);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // Synchronous inside (it sleeps between its own attempts), hence the thread-pool hop.
                return await Task.Run(() => sentinels.GetSentinelMasterConnection(options), stop).WaitAsync(stop);
            }
            catch (RedisConnectionException ex) when (!stop.IsCancellationRequested)
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
