namespace Paas.Router.Table;

/// <summary>The four write kinds the controller announces on the changes channel.</summary>
public enum RouteChangeKind
{
    HostSet,
    HostDel,
    RouteSet,
    RouteDel,
}
