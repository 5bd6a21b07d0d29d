using System.Collections.Concurrent;

namespace Paas.Controller.Instances;

/// <summary>
/// Remembers crashes per instance slot and decides when a crashed slot may start again. Held in memory:
/// it is actual state, and a controller restart simply starts the backoff over.
/// </summary>
public sealed class CrashTracker(RestartBackoff backoff, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string App, string Process, int Index), CrashRecord> _records = new();
    private readonly ConcurrentDictionary<string, byte> _seen = new();

    /// <summary>Records a crash once per container (the event and the periodic sync may both report it); true if it was new.</summary>
    public bool Record(string containerId, string app, string process, int index, long exitCode, bool oomKilled, TimeSpan uptime)
    {
        if (!_seen.TryAdd(containerId, 0))
            return false;
        var now = time.GetUtcNow();
        _records.AddOrUpdate((app, process, index),
            _ => new CrashRecord(1, 1, exitCode, oomKilled, now, now + backoff.DelayAfter(1)),
            (_, previous) =>
            {
                var count = backoff.NextCount(previous.CrashesInARow, uptime);
                return new CrashRecord(count, previous.Restarts + 1, exitCode, oomKilled, now, now + backoff.DelayAfter(count));
            });
        return true;
    }

    public CrashRecord? Get(string app, string process, int index) =>
        _records.TryGetValue((app, process, index), out var record) ? record : null;

    public bool MayStart(string app, string process, int index) =>
        Get(app, process, index) is not { } record || time.GetUtcNow() >= record.NotBefore;

    public void Forget(string app)
    {
        foreach (var key in _records.Keys.Where(k => k.App == app))
            _records.TryRemove(key, out _);
    }
}
