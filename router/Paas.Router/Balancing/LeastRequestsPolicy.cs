using Paas.Router.Table;

namespace Paas.Router.Balancing;

/// <summary>
/// The endpoint with the fewest requests in flight through this router. Scanning starts at a rotating
/// offset so that ties (an idle app has all zeros) are spread rather than always landing on the first
/// (<see cref="EndpointWalk"/>).
/// </summary>
public sealed class LeastRequestsPolicy : IBalancingPolicy
{
    public static LeastRequestsPolicy Instance { get; } = new();

    public Destination? Pick(AppPool pool, Destination? tried1, Destination? tried2, long now) =>
        EndpointWalk.Pick(pool, tried1, tried2, now, default(Outstanding));

    private readonly struct Outstanding : IEndpointLoad
    {
        public int Of(Destination endpoint) => endpoint.State.Outstanding;
    }
}
