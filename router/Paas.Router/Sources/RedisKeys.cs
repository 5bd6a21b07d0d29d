using StackExchange.Redis;

namespace Paas.Router.Sources;

/// <summary>
/// The names the controller writes under. They are a contract with the controller: change them in both places or neither.
/// </summary>
public sealed record RedisKeys(string Prefix)
{
    public RedisKey Hosts => Prefix + "hosts";

    public RedisKey Routes => Prefix + "routes";

    public RedisChannel Changes => RedisChannel.Literal(Prefix + "routes:changes");
}
