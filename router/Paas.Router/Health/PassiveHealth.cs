using Paas.Router.Observability;
using Paas.Router.Table;

namespace Paas.Router.Health;

/// <summary>Tells every router that an instance is refusing connections (<see cref="Sources.RedisEndpointDownPublisher"/>).</summary>
public interface IEndpointDownPublisher
{
    void PublishDown(string instance, TimeSpan cooldown);
}

/// <summary>
/// Passive health: an instance that refuses a connection is skipped for a cool-down, here and, through
/// Redis, on every other router. Only refused or failed connects count: a slow or erroring app is still
/// reachable, and taking it out of rotation would only move its load onto its siblings.
/// </summary>
public sealed class PassiveHealth
{
    private readonly long _cooldownMs;
    private readonly TimeSpan _cooldown;
    private readonly IEndpointDownPublisher _publisher;
    private readonly RouterMetrics _metrics;

    public PassiveHealth(RouterSettings settings, IEndpointDownPublisher publisher, RouterMetrics metrics)
    {
        _cooldown = settings.Cooldown;
        _cooldownMs = (long)settings.Cooldown.TotalMilliseconds;
        _publisher = publisher;
        _metrics = metrics;
    }

    /// <summary>Monotonic milliseconds; the clock cool-down deadlines are written in.</summary>
    public static long Now => Environment.TickCount64;

    public void ReportConnectFailure(Destination endpoint)
    {
        var now = Now;
        var wasCooling = endpoint.State.IsCooling(now);
        endpoint.State.CoolDown(now + _cooldownMs);
        if (!wasCooling)
        {
            // Once per cool-down, not once per failed request: a dead instance under load must not flood Redis.
            _metrics.CoolDowns.Increment();
            _publisher.PublishDown(endpoint.Instance, _cooldown);
        }
    }

    public static void ReportSuccess(EndpointState endpoint, long now)
    {
        if (endpoint.IsCooling(now))
        {
            // It answered after all (it was the only choice left): no reason to keep avoiding it.
            endpoint.Recover();
        }
    }
}
