using Paas.Router.Table;

namespace Paas.Router.Balancing;

/// <summary>
/// The endpoint with the fewest requests in flight through this router. Scanning starts at a rotating
/// offset so that ties (an idle app has all zeros) are spread rather than always landing on the first.
/// </summary>
public sealed class LeastRequestsPolicy : IBalancingPolicy
{
    public static LeastRequestsPolicy Instance { get; } = new();

    public Destination? Pick(AppPool pool, Destination? tried1, Destination? tried2, long now)
    {
        if (pool.TryPickSole(tried1, tried2, out var sole))
        {
            return sole;
        }

        var endpoints = pool.Routable;
        var count = endpoints.Length;
        if (count == 0)
        {
            return null;
        }

        var start = count == 1 ? 0 : (int)(pool.NextTicket() % (uint)count);
        Destination? best = null, cooling = null;
        var bestLoad = int.MaxValue;
        for (var i = 0; i < count; i++)
        {
            var index = start + i;
            var endpoint = endpoints[index >= count ? index - count : index];
            if (ReferenceEquals(endpoint, tried1) || ReferenceEquals(endpoint, tried2))
            {
                continue;
            }

            if (endpoint.State.IsCooling(now))
            {
                cooling ??= endpoint;
                continue;
            }

            var load = endpoint.State.Outstanding;
            if (load < bestLoad)
            {
                best = endpoint;
                bestLoad = load;
            }
        }

        return best ?? cooling;
    }
}
