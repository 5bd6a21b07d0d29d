using System.Collections.Concurrent;

namespace Paas.Router.Forwarding.Http1;

/// <summary>
/// One timer for every backend connection instead of a timer per request: every tick it ends requests
/// that have gone quiet for longer than their app's timeout (the forwarder then answers 504), and closes
/// connections that idled in a pool too long or have lived long enough. nginx and Kestrel keep time the
/// same way; arming and disarming a timer per request would cost more than the rest of the bookkeeping.
/// </summary>
public sealed class BackendConnectionMonitor : IDisposable
{
    /// <summary>How precisely timeouts are kept.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Shorter than the idle timeouts of common app servers, so the router rarely picks a connection the app
    /// is closing at that moment (Node's 5 s is the notable exception, which the forwarder's retry of a stale
    /// connection covers).
    /// </summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Instances come and go and ports get reused; recycling bounds how long a connection can outlive its peer's identity.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(2);

    private readonly ConcurrentDictionary<BackendConnection, byte> _connections = new();
    private readonly ITimer _timer;

    public BackendConnectionMonitor(TimeProvider time)
    {
        _timer = time.CreateTimer(static state => ((BackendConnectionMonitor)state!).Check(Environment.TickCount64), this, Tick, Tick);
    }

    internal void Watch(BackendConnection connection) => _connections.TryAdd(connection, 0);

    internal void Forget(BackendConnection connection) => _connections.TryRemove(connection, out _);

    internal void Check(long now)
    {
        foreach (var (connection, _) in _connections)
        {
            if (connection.IsBusy)
            {
                if (now - connection.LastActivity > connection.TimeoutMs)
                {
                    connection.Expire();
                }
            }
            else if (connection.IsIdle
                && (now - connection.LastActivity > IdleTimeout.TotalMilliseconds || now - connection.Created > Lifetime.TotalMilliseconds)
                && connection.TryCloseIdle())
            {
                connection.Pool.Remove(connection);
            }
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        foreach (var (connection, _) in _connections)
        {
            connection.Dispose();
        }
    }
}
