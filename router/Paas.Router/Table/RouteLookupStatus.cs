namespace Paas.Router.Table;

public enum RouteLookupStatus
{
    /// <summary>No app claims the host: the router answers 404.</summary>
    UnknownHost,

    /// <summary>The host belongs to an app that has no healthy web instance: the router answers 503.</summary>
    NoEndpoints,

    Found,
}
