using Paas.Router.Table;

namespace Paas.Router.Balancing;

/// <summary>
/// Chooses the endpoint for one attempt. Endpoints already tried for this request are passed in and
/// never chosen again (a retry must go elsewhere); endpoints in passive-health cool-down are chosen
/// only when nothing else is left, so a wrong cool-down can slow an app down but never take it offline.
/// </summary>
public interface IBalancingPolicy
{
    /// <param name="now">Monotonic milliseconds, compared with cool-down deadlines.</param>
    /// <returns>Null when every endpoint has been tried.</returns>
    Destination? Pick(AppPool pool, Destination? tried1, Destination? tried2, long now);

    public static IBalancingPolicy For(BalancingPolicy policy) => policy switch
    {
        BalancingPolicy.LeastRequests => LeastRequestsPolicy.Instance,
        _ => RoundRobinPolicy.Instance,
    };
}
