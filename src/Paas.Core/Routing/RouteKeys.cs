namespace Paas.Core.Routing;

/// <summary>
/// Names of the Redis keys that carry the routing table. Everything is under one prefix so several
/// platforms (or test runs) can share a Redis server; pub/sub channels are not per-database, so the
/// prefix, not the database number, is what keeps them apart.
/// </summary>
public sealed record RouteKeys(string Prefix)
{
    /// <summary>Hash: hostname → app name. A field may be a wildcard, <c>*.example.com</c>, matching exactly one leading label.</summary>
    public string Hosts => Prefix + "hosts";

    /// <summary>Hash: instance id → <see cref="RouteEntry"/> JSON; only healthy web instances.</summary>
    public string Routes => Prefix + "routes";

    /// <summary>Hash: app name → <see cref="AppRouteOptions"/> JSON (balancing, sticky cookie, timeout, body limit).</summary>
    public string AppOptions => Prefix + "app-options";

    /// <summary>Channel: a <see cref="RouteChange"/> JSON after every write to the hashes above.</summary>
    public string Changes => Prefix + "routes:changes";

    /// <summary>
    /// Counter: incremented in the same transaction as every write to the hashes above, and carried by
    /// that write's <see cref="RouteChange"/>. A router whose table is at the counter's value has missed
    /// nothing, so it can skip reloading the hashes; a message whose number skips one tells it at once
    /// that a message was lost. See <see cref="RouteWriter"/>.
    /// </summary>
    public string Version => Prefix + "routes:version";

    /// <summary>Hash: router id → when it last acknowledged; the routers a deploy waits for are the live ones among these (see <see cref="RouterAcknowledgement"/>).</summary>
    public string Routers => Prefix + "routers";

    /// <summary>String key with a TTL: the <see cref="Version"/> whose table <paramref name="router"/> serves; present while it is alive. See <see cref="RouterAcknowledgement"/>.</summary>
    public string RouterApplied(string router) => Prefix + "routers:" + router + ":applied";

    /// <summary>
    /// String key with a TTL: present while <paramref name="cell"/> is alive. See <see cref="CellHeartbeat"/>.
    /// </summary>
    public string CellAlive(string cell) => Prefix + "cells:" + cell + ":alive";
}
