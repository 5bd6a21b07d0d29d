using Paas.Router.Table;

namespace Paas.Router.Balancing;

/// <summary>How busy an endpoint is, for <see cref="EndpointWalk"/>; a struct, so each policy's walk is compiled for it.</summary>
internal interface IEndpointLoad
{
    int Of(Destination endpoint);
}

/// <summary>
/// The rule every policy shares (<see cref="IBalancingPolicy"/>): walk the app's routable endpoints from a rotating
/// ticket, never choose one already tried for this request, take one in cool-down only when nothing else is left,
/// and among the rest take the least loaded, the first of equals (so ties spread with the ticket).
/// </summary>
internal static class EndpointWalk
{
    public static Destination? Pick<TLoad>(AppPool pool, Destination? tried1, Destination? tried2, long now, TLoad load)
        where TLoad : struct, IEndpointLoad
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

            var current = load.Of(endpoint);
            if (current <= 0)
            {
                // Nothing can be less busy: the walk ends here (for round robin, at the first endpoint that may serve).
                return endpoint;
            }

            if (current < bestLoad)
            {
                best = endpoint;
                bestLoad = current;
            }
        }

        return best ?? cooling;
    }
}
