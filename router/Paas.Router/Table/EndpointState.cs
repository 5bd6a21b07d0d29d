namespace Paas.Router.Table;

/// <summary>
/// The mutable runtime side of one instance: requests in flight (for least-requests balancing) and the
/// passive-health cool-down. Carried from snapshot to snapshot by instance id, so a table swap neither
/// forgets a cool-down nor resets the in-flight count of requests still running.
/// </summary>
public sealed class EndpointState
{
    private int _outstanding;
    private long _coolingUntil;

    public int Outstanding => Volatile.Read(ref _outstanding);

    public void Begin() => Interlocked.Increment(ref _outstanding);

    public void End() => Interlocked.Decrement(ref _outstanding);

    /// <param name="now">Milliseconds on the router's monotonic clock (<see cref="Environment.TickCount64"/> in production).</param>
    public bool IsCooling(long now) => Volatile.Read(ref _coolingUntil) > now;

    /// <summary>Skips the instance until <paramref name="until"/>; a later deadline wins over an earlier one.</summary>
    public void CoolDown(long until)
    {
        var current = Volatile.Read(ref _coolingUntil);
        while (until > current)
        {
            var seen = Interlocked.CompareExchange(ref _coolingUntil, until, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    public void Recover() => Volatile.Write(ref _coolingUntil, 0);
}
