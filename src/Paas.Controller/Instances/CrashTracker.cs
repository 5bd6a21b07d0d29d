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

    /// <summary>
    /// Records a crash once (the cell's event and the periodic pass may both report it, so both key it by
    /// <see cref="CrashKey"/>); true if it was new. A crash of another release than the slot's last one
    /// starts the count over: a new release's first crash restarts at once.
    /// </summary>
    public bool Record(string crashKey, string app, string process, int index, long exitCode, bool oomKilled, TimeSpan uptime, int release = 0)
    {
        if (!_seen.TryAdd(crashKey, 0))
            return false;
        var now = time.GetUtcNow();
        _records.AddOrUpdate((app, process, index),
            _ => new CrashRecord(1, 1, exitCode, oomKilled, now, now + backoff.DelayAfter(1), release),
            (_, previous) =>
            {
                var count = previous.Release == release ? backoff.NextCount(previous.CrashesInARow, uptime) : 1;
                return new CrashRecord(count, previous.Restarts + 1, exitCode, oomKilled, now, now + backoff.DelayAfter(count), release);
            });
        return true;
    }

    /// <summary>
    /// What names one crash: the instance and the start of the run that ended. A container restarted in place
    /// keeps its instance id, so its next crash must count again; the cell's event and a pass's listing both give that start.
    /// </summary>
    public static string CrashKey(string instanceId, DateTimeOffset? startedAt) =>
        startedAt is { } started ? $"{instanceId}@{started.UtcTicks}" : instanceId;

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
