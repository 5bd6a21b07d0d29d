namespace Paas.Router.Table;

/// <summary>Answer to "where does this host go?", taken from one snapshot so app and endpoints agree.</summary>
public readonly record struct RouteLookup(RouteLookupStatus Status, string? App, AppPool? Pool)
{
    public static RouteLookup UnknownHost => new(RouteLookupStatus.UnknownHost, null, null);

    public static RouteLookup NoEndpoints(string app) => new(RouteLookupStatus.NoEndpoints, app, null);

    public static RouteLookup Found(AppPool pool) => new(RouteLookupStatus.Found, pool.App, pool);

    public IReadOnlyList<Destination> Endpoints => Pool?.Routable ?? [];
}
