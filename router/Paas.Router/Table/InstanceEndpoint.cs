using Paas.Core.Routing;

namespace Paas.Router.Table;

/// <summary>
/// One routable web instance: a <see cref="RouteEntry"/> from the routes hash (the controller's record), checked for use.
/// </summary>
public sealed record InstanceEndpoint(string Instance, string App, string Process, int Release, string Address, string? Cell = null)
{
    /// <summary>
    /// The routes-hash value this was parsed from. A resync compares it with what Redis holds now and parses
    /// only entries that changed: with 100,000 routes, parsing them all every 30 s cost the router more
    /// than a second of CPU, taken from requests. Not part of equality: two spellings of one route are one route.
    /// </summary>
    public string? Source { get; init; }

    public bool Equals(InstanceEndpoint? other) =>
        other is not null && Instance == other.Instance && App == other.App && Process == other.Process
        && Release == other.Release && Address == other.Address && Cell == other.Cell;

    public override int GetHashCode() => HashCode.Combine(Instance, App, Process, Release, Address, Cell);

    /// <summary>
    /// Parses a routes-hash value. The hash field is the identity: it is what a later route-del names,
    /// so it wins over an "instance" property inside the JSON that might disagree.
    /// </summary>
    public static bool TryParse(string instance, string? json, out InstanceEndpoint endpoint)
    {
        endpoint = null!;
        if (string.IsNullOrWhiteSpace(instance) || string.IsNullOrWhiteSpace(json))
        {
            return false;
        }

        if (!RoutingJson.TryReadEntry(json, out var entry) || string.IsNullOrWhiteSpace(entry.App) || !IsPlausibleAddress(entry.Address))
        {
            return false;
        }

        // Interned, as hosts' app names are (RouteTableBuilder.SetHost): the lookup's host -> app -> pool step
        // then matches the pool's key by reference, without reading a second copy of the name.
        endpoint = new InstanceEndpoint(instance, string.Intern(entry.App), string.IsNullOrWhiteSpace(entry.Process) ? "web" : entry.Process,
            entry.Release, entry.Address, string.IsNullOrWhiteSpace(entry.Cell) ? null : entry.Cell) { Source = json };
        return true;
    }

    // The forwarder builds "http://" + address, so anything that would change the URL's meaning
    // (a scheme, a path, userinfo) must be refused rather than silently sending traffic elsewhere.
    private static bool IsPlausibleAddress(string? address) =>
        !string.IsNullOrWhiteSpace(address)
        && address.IndexOfAny(['/', '@', '?', '#', ' ']) < 0
        && Uri.TryCreate("http://" + address, UriKind.Absolute, out var uri)
        // Uri fills in 80 for a missing port; an instance address without an explicit port is a controller bug.
        && address.EndsWith(":" + uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
