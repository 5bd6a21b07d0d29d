using Paas.Router.Table;

namespace Paas.Router.Balancing;

/// <summary>
/// One counter per app (kept on its <see cref="AppPool"/>), one interlocked increment per request, and
/// a walk forward from the ticket past tried or cooling endpoints (<see cref="EndpointWalk"/>, every endpoint's load
/// counted as nothing).
/// </summary>
public sealed class RoundRobinPolicy : IBalancingPolicy
{
    public static RoundRobinPolicy Instance { get; } = new();

    public Destination? Pick(AppPool pool, Destination? tried1, Destination? tried2, long now) =>
        EndpointWalk.Pick(pool, tried1, tried2, now, default(NoLoad));

    private readonly struct NoLoad : IEndpointLoad
    {
        public int Of(Destination endpoint) => 0;
    }
}
