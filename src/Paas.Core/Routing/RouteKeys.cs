namespace Paas.Core.Routing;

/// <summary>
/// Names of the Redis keys that carry the routing table. Everything is under one prefix so several
/// platforms (or test runs) can share a Redis server; pub/sub channels are not per-database, so the
/// prefix, not the database number, is what keeps them apart.
/// </summary>
public sealed record RouteKeys(string Prefix)
{
    /// <summary>Hash: hostname → app name.</summary>
    public string Hosts => Prefix + "hosts";

    /// <summary>Hash: instance id → <see cref="RouteEntry"/> JSON; only healthy web instances.</summary>
    public string Routes => Prefix + "routes";

    /// <summary>Channel: a <see cref="RouteChange"/> JSON after every write to the two hashes.</summary>
    public string Changes => Prefix + "routes:changes";
}
