using System.Buffers;
using System.Text;
using Paas.Router.Table;
using StackExchange.Redis;

namespace Paas.Router.Sources;

/// <summary>
/// What a full reload read from Redis (the hosts, routes and app-options hashes), turned into a table: compared with
/// the table in use first, decoding each entry into one reused buffer rather than a string of its own, so a reload of
/// an unchanged table (nearly every reload) allocates nothing beyond what the Redis client returned; rebuilt only when
/// something differs.
/// </summary>
internal static class StoredRoutes
{
    /// <summary>Redis holds exactly what <paramref name="table"/> was built from.</summary>
    public static bool Match(RouteTable table, HashEntry[] hosts, HashEntry[] routes, HashEntry[] appOptions)
    {
        if (hosts.Length != table.HostMap.Count || routes.Length != table.InstanceMap.Count || appOptions.Length != table.OptionMap.Count)
        {
            return false;
        }

        var buffer = ArrayPool<char>.Shared.Rent(1024);
        try
        {
            foreach (var entry in hosts)
            {
                if (!table.HostMap.TryGetValue(Decode(entry.Name, ref buffer), out var app) || !Decode(entry.Value, ref buffer).SequenceEqual(app))
                {
                    return false;
                }
            }

            foreach (var entry in routes)
            {
                if (!table.InstanceMap.TryGetValue(Decode(entry.Name, ref buffer), out var known)
                    || !Decode(entry.Value, ref buffer).SequenceEqual(known.Config.Source))
                {
                    return false;
                }
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }

        // Few apps set options: these are parsed as the table's were.
        foreach (var entry in appOptions)
        {
            if (!AppRouteConfig.TryParse(entry.Value.ToString(), out var config)
                || !table.OptionMap.TryGetValue(entry.Name.ToString(), out var known) || known != config)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The next table, from what Redis holds; endpoints whose registration is unchanged are reused. Entries that do
    /// not parse are skipped and named to <paramref name="skipped"/>: one bad write must not empty the table.
    /// </summary>
    public static RouteTable Rebuild(RouteTable current, HashEntry[] hosts, HashEntry[] routes, HashEntry[] appOptions, Action<string> skipped)
    {
        var endpoints = new List<InstanceEndpoint>(routes.Length);
        foreach (var entry in routes)
        {
            var instance = entry.Name.ToString();
            var json = entry.Value.ToString();
            if (current.InstanceMap.TryGetValue(instance, out var known) && known.Config.Source == json)
            {
                endpoints.Add(known.Config);
            }
            else if (InstanceEndpoint.TryParse(instance, json, out var endpoint))
            {
                endpoints.Add(endpoint);
            }
            else
            {
                skipped($"route entry {instance}");
            }
        }

        var options = new List<KeyValuePair<string, AppRouteConfig>>(appOptions.Length);
        foreach (var entry in appOptions)
        {
            if (AppRouteConfig.TryParse(entry.Value.ToString(), out var config))
            {
                options.Add(KeyValuePair.Create(entry.Name.ToString(), config));
            }
            else
            {
                skipped($"app options for {entry.Name}");
            }
        }

        var hostPairs = hosts.Select(h => KeyValuePair.Create(h.Name.ToString(), h.Value.ToString())).ToList();
        return RouteTable.Build(current.Version + 1, hostPairs, endpoints, options, previous: current);
    }

    /// <summary>The value's text in <paramref name="buffer"/>, which grows when the value needs more room.</summary>
    private static ReadOnlySpan<char> Decode(RedisValue value, ref char[] buffer)
    {
        ReadOnlyMemory<byte> bytes = value;
        // UTF-8 never has fewer bytes than the text has UTF-16 characters.
        if (bytes.Length > buffer.Length)
        {
            ArrayPool<char>.Shared.Return(buffer);
            buffer = ArrayPool<char>.Shared.Rent(bytes.Length);
        }

        return buffer.AsSpan(0, Encoding.UTF8.GetChars(bytes.Span, buffer));
    }
}
