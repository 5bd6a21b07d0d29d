using StackExchange.Redis;

namespace Paas.Router.Sources;

/// <summary>
/// A part of the router that talks to Redis over the one connection the route source opens (through Sentinel it
/// follows a failover): the app-log feed, the endpoint-down publisher. One connection, so a router never holds a
/// table from one primary while writing logs to another.
/// </summary>
public interface IRedisConnectionUser
{
    /// <summary>Called with the connection once it is open, and with null when the source stops using it.</summary>
    void Attach(IConnectionMultiplexer? redis);
}
