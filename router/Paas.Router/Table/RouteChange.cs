using System.Text.Json;

namespace Paas.Router.Table;

/// <summary>
/// One message from the changes channel: <c>{"kind":"route-set","key":"...","value":"...","version":42}</c>;
/// the version is absent from messages that are not writes (endpoint-down) or come from older writers.
/// </summary>
public sealed record RouteChange(RouteChangeKind Kind, string Key, string? Value, long? Version = null)
{
    public static bool TryParse(string? json, out RouteChange change)
    {
        change = null!;
        if (string.IsNullOrWhiteSpace(json))
        {
            return false;
        }

        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("kind", out var kindElement) || kindElement.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("key", out var keyElement) || keyElement.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            RouteChangeKind? kind = kindElement.GetString() switch
            {
                Paas.Core.Routing.RouteChange.HostSet => RouteChangeKind.HostSet,
                Paas.Core.Routing.RouteChange.HostDel => RouteChangeKind.HostDel,
                Paas.Core.Routing.RouteChange.RouteSet => RouteChangeKind.RouteSet,
                Paas.Core.Routing.RouteChange.RouteDel => RouteChangeKind.RouteDel,
                Paas.Core.Routing.RouteChange.AppOptionsSet => RouteChangeKind.AppOptionsSet,
                Paas.Core.Routing.RouteChange.AppOptionsDel => RouteChangeKind.AppOptionsDel,
                Paas.Core.Routing.RouteChange.EndpointDown => RouteChangeKind.EndpointDown,
                _ => null,
            };
            var key = keyElement.GetString();
            if (kind is null || string.IsNullOrWhiteSpace(key))
            {
                return false;
            }

            string? value = null;
            if (root.TryGetProperty("value", out var valueElement))
            {
                value = valueElement.ValueKind switch
                {
                    JsonValueKind.String => valueElement.GetString(),
                    JsonValueKind.Null or JsonValueKind.Undefined => null,
                    // The contract says the hash value travels as a string; accepting an inline object too
                    // costs nothing and keeps a slightly different publisher from silently breaking routing.
                    _ => valueElement.GetRawText(),
                };
            }

            long? version = null;
            if (root.TryGetProperty("version", out var versionElement) && versionElement.ValueKind != JsonValueKind.Null)
            {
                if (versionElement.ValueKind != JsonValueKind.Number || !versionElement.TryGetInt64(out var number) || number <= 0)
                {
                    return false;
                }

                version = number;
            }

            change = new RouteChange(kind.Value, key, value, version);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
