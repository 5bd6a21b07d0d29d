namespace Paas.Controller.Instances;

/// <summary>
/// When the converger may re-place the instances of a lost cell. Normally at once: the cell missed its heartbeats
/// for the lost-cell timeout. But for a grace period (<paramref name="grace"/>) after a lost cell comes back, and
/// after the controller starts, it waits: cells that went silent together (every agent restarted, Redis or the
/// network out for all of them) return one after another, and the first ones back must not be handed the
/// instances of peers a moment behind them, which would then be stopped as duplicates when their cells report
/// (a healthy container replaced for nothing). Meanwhile those instances keep their routes, as any lost cell's do.
/// Diego's converger likewise treats cells it has not heard from yet as missing, not gone.
/// </summary>
public sealed class CellReturnGrace(TimeSpan grace, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly DateTimeOffset _started = time.GetUtcNow();
    private Dictionary<string, bool> _last = new(StringComparer.Ordinal);
    private DateTimeOffset _returnedAt = DateTimeOffset.MinValue;

    /// <summary>Takes in the registered cells' liveness as just read; a registered cell seen lost before and live now has come back.</summary>
    public void Observe(IEnumerable<(string Cell, bool Live)> status)
    {
        var now = time.GetUtcNow();
        var seen = status.ToDictionary(s => s.Cell, s => s.Live, StringComparer.Ordinal);
        lock (_gate)
        {
            if (seen.Any(s => s.Value && _last.TryGetValue(s.Key, out var wasLive) && !wasLive))
                _returnedAt = now;
            _last = seen;
        }
    }

    /// <summary>How long re-placing a lost cell's instances must still wait; zero when it may happen now.</summary>
    public TimeSpan Remaining
    {
        get
        {
            DateTimeOffset since;
            lock (_gate)
            {
                // Last seen with every registered cell lost: whichever cell a placement finds live now has only just
                // come back (after that look), and its peers are likely behind it.
                if (_last.Count > 0 && !_last.ContainsValue(true))
                    return grace;
                since = _returnedAt > _started ? _returnedAt : _started;
            }
            var left = since + grace - time.GetUtcNow();
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }
}
