using System.Buffers;
using System.Text.Json;
using Paas.Router.Table;

namespace Paas.Router.Admin;

/// <summary>
/// Renders a snapshot for GET /routes. The controller polls this to learn when a new instance is
/// actually routable, so it is written from the same in-memory table requests are served from.
/// </summary>
public static class RoutesJson
{
    public static byte[] Render(RouteTable table)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("version", table.Version);
            json.WriteStartObject("hosts");
            // Sorted so two reads of the same version produce the same bytes, which makes diffs useful.
            foreach (var (host, app) in table.Hosts.OrderBy(h => h.Key, StringComparer.Ordinal))
            {
                json.WriteStartObject(host);
                json.WriteString("app", app);
                // Additive: the balancing the router applies to this app now, so an operator (or a test) can see an option arrive.
                json.WriteString("balancing", (table.Options.GetValueOrDefault(app) ?? Table.AppRouteConfig.Default).Balancing switch
                {
                    Table.BalancingPolicy.LeastRequests => "least-requests",
                    _ => "round-robin",
                });
                json.WriteStartArray("endpoints");
                foreach (var endpoint in table.EndpointsFor(app))
                {
                    json.WriteStartObject();
                    json.WriteString("instance", endpoint.Instance);
                    json.WriteString("address", endpoint.Address);
                    // Additive: true while passive health (here or on another router) is skipping the instance.
                    json.WriteBoolean("cooling", endpoint.State.IsCooling(Health.PassiveHealth.Now));
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
