using System.Collections.Immutable;

namespace Paas.Router.Table;

/// <summary>Answer to "where does this host go?", taken from one snapshot so app and endpoints agree.</summary>
public readonly record struct RouteLookup(RouteLookupStatus Status, string? App, ImmutableArray<InstanceEndpoint> Endpoints)
{
    public static RouteLookup UnknownHost { get; } = new(RouteLookupStatus.UnknownHost, null, []);

    public static RouteLookup NoEndpoints(string app) => new(RouteLookupStatus.NoEndpoints, app, []);

    public static RouteLookup Found(string app, ImmutableArray<InstanceEndpoint> endpoints) => new(RouteLookupStatus.Found, app, endpoints);
}
