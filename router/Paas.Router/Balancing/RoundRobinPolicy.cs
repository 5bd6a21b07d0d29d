using Paas.Router.Table;

namespace Paas.Router.Balancing;

/// <summary>
/// One counter per app (kept on its <see cref="AppPool"/>), one interlocked increment per request, and
/// a walk forward from the ticket past tried or cooling endpoints.
/// </summary>
public sealed class RoundRobinPolicy : IBalancingPolicy
{
    public static RoundRobinPolicy Instance { get; } = new();

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
        Destination? cooling = null;
        for (var i = 0; i < count; i++)
        {
            var index = start + i;
            var endpoint = endpoints[index >= count ? index - count : index];
            if (ReferenceEquals(endpoint, tried1) || ReferenceEquals(endpoint, tried2))
            {
                continue;
            }

            if (!endpoint.State.IsCooling(now))
            {
                return endpoint;
            }

            cooling ??= endpoint;
        }

        return cooling;
    }
}
