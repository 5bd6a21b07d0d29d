using System.Globalization;
using Paas.Core.Routing;
using Paas.Router.Health;
using StackExchange.Redis;

namespace Paas.Router.Sources;

/// <summary>
/// Tells every router, on the route-change channel, that an instance refused a connection, so they skip it for the
/// same cool-down (<see cref="PassiveHealth"/>). Fire and forget: while Redis is away the news stays local, which
/// costs other routers one failed connect each, not a request.
/// </summary>
public sealed class RedisEndpointDownPublisher(RouterSettings settings) : IEndpointDownPublisher, IRedisConnectionUser
{
    private readonly RouteKeys _keys = new(settings.RedisPrefix);
    private volatile IConnectionMultiplexer? _redis;

    public void Attach(IConnectionMultiplexer? redis) => _redis = redis;

    public void PublishDown(string instance, TimeSpan cooldown)
    {
        if (_redis is not { IsConnected: true } redis)
        {
            return;
        }

        var message = RoutingJson.Write(new RouteChange(
            RouteChange.EndpointDown, instance, ((long)cooldown.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)));
        _ = redis.GetSubscriber().PublishAsync(RedisChannel.Literal(_keys.Changes), message, CommandFlags.FireAndForget);
    }
}
