using System.Runtime.CompilerServices;
using Paas.Router.Balancing;
using Paas.Router.Observability;

namespace Paas.Router.Table;

/// <summary>
/// Everything a request for one app needs, found with one lookup: the routable endpoints (sorted by
/// instance id so round-robin order is stable across snapshots), the app's options and its
/// round-robin counter, which is carried over when the pool is rebuilt.
/// </summary>
public sealed class AppPool
{
    private readonly StrongBox<int> _counter;

    public AppPool(string app, Destination[] all, Destination[] routable, AppRouteConfig options, StrongBox<int>? counter)
    {
        App = app;
        All = all;
        Routable = routable;
        Options = options;
        _counter = counter ?? new StrongBox<int>(-1);
        AllByAddress = Array.TrueForAll(routable, endpoint => endpoint.Connections.NativeAddress is not null);
        Policy = IBalancingPolicy.For(options.Balancing);
        IsSticky = options.StickyCookie is not null;
        InMaintenance = options.Maintenance;
        RedirectsToHttps = options.HttpsRedirect;
        Sole = routable.Length == 1 ? routable[0] : null;
        SoleState = Sole?.State;
        IsRoutable = routable.Length > 0;
        TimeoutMs = options.Timeout is { } timeout ? (long)timeout.TotalMilliseconds : null;
    }

    public string App { get; }

    /// <summary>Every endpoint registered for the app, including those on cells whose heartbeat lapsed.</summary>
    public Destination[] All { get; }

    /// <summary>The endpoints requests may go to.</summary>
    public Destination[] Routable { get; }

    public AppRouteConfig Options { get; }

    // Read per request by the front end: copied here from Options, so a request touches one object per app
    // rather than two (with 100,000 apps, each is a cache miss).
    internal IBalancingPolicy Policy { get; }

    internal bool IsSticky { get; }

    /// <summary>Plain HTTP gets a redirect to HTTPS: the general path answers it.</summary>
    internal bool RedirectsToHttps { get; }

    /// <summary>The app is in maintenance: the general path answers with the maintenance page.</summary>
    internal bool InMaintenance { get; }

    /// <summary>The only routable endpoint, when there is exactly one (most apps): picked without reading <see cref="Routable"/>.</summary>
    internal Destination? Sole { get; }

    /// <summary><see cref="Sole"/>'s state, so the front end can ask for it without first reading the endpoint.</summary>
    internal EndpointState? SoleState { get; }

    internal bool IsRoutable { get; }

    /// <summary>
    /// For a pool of one, every policy's answer: its endpoint, even cooling (nothing else is left), unless
    /// this request already tried it (null).
    /// </summary>
    internal bool TryPickSole(Destination? tried1, Destination? tried2, out Destination? pick)
    {
        pick = Sole is { } sole && !ReferenceEquals(sole, tried1) && !ReferenceEquals(sole, tried2) ? sole : null;
        return Sole is not null;
    }

    internal long? TimeoutMs { get; }

    /// <summary>Every routable endpoint has an IP address (not a DNS name), so the front end can connect to it itself.</summary>
    internal bool AllByAddress { get; }

    internal StrongBox<int> Counter => _counter;

    /// <summary>The metrics counter this app's last request was counted on (see <see cref="RouterMetrics.Record"/>).</summary>
    internal StatusCounter? LastStatusCounter { get; set; }

    /// <summary>This app's latency histogram (see <see cref="RouterMetrics.Record"/>).</summary>
    internal Paas.Core.Metrics.LatencyHistogram? Latency { get; set; }

    /// <summary>The next round-robin ticket; unsigned so wrap-around after 2^32 requests stays valid.</summary>
    public uint NextTicket() => (uint)Interlocked.Increment(ref _counter.Value);
}
