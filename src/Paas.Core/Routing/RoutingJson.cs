using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Paas.Core.Routing;

/// <summary>
/// The one wire format of the routing records the controller writes to Redis and every router reads:
/// <see cref="RouteEntry"/> (routes hash), <see cref="AppRouteOptions"/> (app-options hash) and
/// <see cref="RouteChange"/> (changes channel). Both sides serialise through this context, so a property
/// renamed or retyped on one side is renamed on the other by the compiler, not by a reader's convention.
/// Source-generated: the router parses changed entries on its hot resync path, without reflection.
/// </summary>
[JsonSerializable(typeof(RouteEntry))]
[JsonSerializable(typeof(AppRouteOptions))]
[JsonSerializable(typeof(RouteChange))]
public sealed partial class RoutingJson : JsonSerializerContext
{
    public static string Write(RouteEntry entry) => JsonSerializer.Serialize(entry, Default.RouteEntry);

    public static string Write(AppRouteOptions options) => JsonSerializer.Serialize(options, Default.AppRouteOptions);

    public static string Write(RouteChange change) => JsonSerializer.Serialize(change, Default.RouteChange);

    public static bool TryReadEntry(string? json, [NotNullWhen(true)] out RouteEntry? entry) => TryRead(json, Default.RouteEntry, out entry);

    public static bool TryReadOptions(string? json, [NotNullWhen(true)] out AppRouteOptions? options) => TryRead(json, Default.AppRouteOptions, out options);

    public static bool TryReadChange(string? json, [NotNullWhen(true)] out RouteChange? change) => TryRead(json, Default.RouteChange, out change);

    /// <summary>
    /// False for anything that is not one JSON object of the record's shape (a wrong property type included);
    /// what the values mean (an address that would change a URL, a cookie name) is for the reader to judge.
    /// </summary>
    private static bool TryRead<T>(string? json, JsonTypeInfo<T> info, [NotNullWhen(true)] out T? value)
        where T : class
    {
        value = null;
        if (string.IsNullOrWhiteSpace(json) || json.AsSpan().TrimStart()[0] != '{')
            return false;
        try
        {
            value = JsonSerializer.Deserialize(json, info);
            return value is not null;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
