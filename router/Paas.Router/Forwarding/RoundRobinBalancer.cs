using System.Collections.Concurrent;

namespace Paas.Router.Forwarding;

/// <summary>
/// Spreads an app's requests over its endpoints with one counter per app, so a busy app does not
/// skew where a quiet one's requests land. Lock-free: one interlocked increment per request.
/// </summary>
public sealed class RoundRobinBalancer
{
    // Counters outlive apps that are deleted; that is a few bytes per app ever seen, cheaper than
    // coordinating removal with the table swaps.
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);

    /// <summary>Index in [0, count) of the endpoint to use next for this app.</summary>
    public int NextIndex(string app, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (count == 1)
        {
            return 0;
        }

        var counter = _counters.GetOrAdd(app, static _ => new Counter());
        // Unsigned so wrap-around after 2^32 requests keeps producing valid indices.
        var ticket = (uint)Interlocked.Increment(ref counter.Value);
        return (int)(ticket % (uint)count);
    }

    private sealed class Counter
    {
        // Starts one before zero so an app's first request goes to its first endpoint.
        public int Value = -1;
    }
}
