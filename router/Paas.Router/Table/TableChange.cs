using Paas.Core.Routing;

namespace Paas.Router.Table;

/// <summary>
/// One message from the changes channel, as the table applies it: the wire record is Paas.Core's
/// <see cref="RouteChange"/> (read through <see cref="RoutingJson"/>, the format the controller writes), its
/// kind resolved to <see cref="RouteChangeKind"/>. The version is absent from messages that are not writes
/// (endpoint-down).
/// </summary>
public sealed record TableChange(RouteChangeKind Kind, string Key, string? Value, long? Version = null)
{
    public static bool TryParse(string? json, out TableChange change)
    {
        change = null!;
        if (!RoutingJson.TryReadChange(json, out var message) || string.IsNullOrWhiteSpace(message.Key))
        {
            return false;
        }

        RouteChangeKind? kind = message.Kind switch
        {
            RouteChange.HostSet => RouteChangeKind.HostSet,
            RouteChange.HostDel => RouteChangeKind.HostDel,
            RouteChange.RouteSet => RouteChangeKind.RouteSet,
            RouteChange.RouteDel => RouteChangeKind.RouteDel,
            RouteChange.AppOptionsSet => RouteChangeKind.AppOptionsSet,
            RouteChange.AppOptionsDel => RouteChangeKind.AppOptionsDel,
            RouteChange.EndpointDown => RouteChangeKind.EndpointDown,
            _ => null,
        };
        // Versions count writes from 1; anything else is not a message a writer sent.
        if (kind is null || message.Version is <= 0)
        {
            return false;
        }

        change = new TableChange(kind.Value, message.Key, message.Value, message.Version);
        return true;
    }
}
