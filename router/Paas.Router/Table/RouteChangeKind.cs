namespace Paas.Router.Table;

/// <summary>The write kinds announced on the changes channel (names in <see cref="Paas.Core.Routing.RouteChange"/>).</summary>
public enum RouteChangeKind
{
    HostSet,
    HostDel,
    RouteSet,
    RouteDel,
    AppOptionsSet,
    AppOptionsDel,

    /// <summary>Another router saw the instance refuse a connection; not a table change but a health hint.</summary>
    EndpointDown,
}
