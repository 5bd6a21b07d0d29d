namespace Paas.Core.Logs;

/// <summary>
/// One token bucket per app, so an app printing without pause uses up its own allowance and not the
/// collector's time or the log store's space at the expense of other apps. Dropped lines are counted, and
/// the count is handed out once (for a marker line) as soon as the app is allowed a line again.
/// </summary>
public sealed class LogRateLimiter(double linesPerSecond, double burst, TimeProvider time)
{
    private readonly Dictionary<string, AppState> _apps = new();

    /// <summary>
    /// True when the app may write one more line now. When it may and lines were dropped before,
    /// <paramref name="droppedBefore"/> says how many: write the marker, then the line.
    /// </summary>
    public bool TryAdmit(string app, out long droppedBefore)
    {
        lock (_apps)
        {
            var state = StateOf(app);
            if (!state.Bucket.TryTake())
            {
                state.Dropped++;
                droppedBefore = 0;
                return false;
            }
            droppedBefore = state.Dropped;
            state.Dropped = 0;
            return true;
        }
    }

    /// <summary>
    /// Apps that dropped lines and may write again, each with its count (reset): for an app that fell
    /// silent after a burst, whose next line would otherwise be the only thing to report the drop.
    /// </summary>
    public IReadOnlyList<(string App, long Dropped)> TakePendingDrops()
    {
        lock (_apps)
        {
            var pending = new List<(string, long)>();
            foreach (var (app, state) in _apps)
            {
                if (state.Dropped > 0 && state.Bucket.TryTake())
                {
                    pending.Add((app, state.Dropped));
                    state.Dropped = 0;
                }
            }
            return pending;
        }
    }

    public static string Marker(long dropped) => $"Log rate limit exceeded: {dropped} line{(dropped == 1 ? "" : "s")} dropped";

    private AppState StateOf(string app)
    {
        if (!_apps.TryGetValue(app, out var state))
            _apps[app] = state = new AppState(new TokenBucket(linesPerSecond, burst, time));
        return state;
    }

    private sealed class AppState(TokenBucket bucket)
    {
        public TokenBucket Bucket { get; } = bucket;
        public long Dropped { get; set; }
    }
}
