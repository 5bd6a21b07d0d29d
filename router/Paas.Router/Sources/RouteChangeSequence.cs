namespace Paas.Router.Sources;

/// <summary>
/// Which route writes the table reflects, from the version each change message carries (every write bumps the
/// <c>routes:version</c> counter and names the new value). Decides, per message, whether to apply it, and says
/// which version the router may acknowledge as fully served (the controller waits for that before it calls a
/// route confirmed).
/// </summary>
/// <remarks>
/// Only the route source's single reader calls this, so it is not thread-safe, by design.
/// </remarks>
public sealed class RouteChangeSequence
{
    /// <summary>The counter value the table reflects: set by each reload, advanced by each versioned message.</summary>
    public long TableVersion { get; private set; }

    /// <summary>
    /// The highest version the table reflects completely: not advanced past a gap until a reload has read
    /// everything again, so an acknowledgement never covers a write this router missed.
    /// </summary>
    public long CompleteVersion { get; private set; }

    /// <summary>A message was found missing since the last reload.</summary>
    public bool HasGap { get; private set; }

    /// <summary>What to do with a message carrying <paramref name="version"/>, and the table advanced accordingly.</summary>
    public RouteChangeVerdict Observe(long version, bool loadedOnce)
    {
        if (version <= TableVersion)
        {
            // Either a reload already read this write (it ran between the write and this message's arrival),
            // and applying it now could undo a later write that reload also read; or the counter started again
            // (Redis flushed): one read of the counter tells which.
            return RouteChangeVerdict.CheckCounter;
        }

        var verdict = RouteChangeVerdict.Apply;
        if (version != TableVersion + 1 && loadedOnce)
        {
            HasGap = true;
            verdict = RouteChangeVerdict.ApplyAndReload;
        }

        TableVersion = version;
        if (!HasGap)
        {
            CompleteVersion = version;
        }

        return verdict;
    }

    /// <summary>
    /// A reload read everything as of <paramref name="counter"/>. Set, not raised to: a Redis restored from an older
    /// snapshot has an older counter, and the messages that follow count from it.
    /// </summary>
    public void Reloaded(long counter)
    {
        TableVersion = counter;
        CompleteVersion = counter;
        HasGap = false;
    }
}

public enum RouteChangeVerdict
{
    /// <summary>The next write in order: apply it.</summary>
    Apply,

    /// <summary>Newer, but one or more writes before it never arrived: apply it, and reload to recover the lost ones.</summary>
    ApplyAndReload,

    /// <summary>Not newer than the table: ignore it, and compare the table with the counter.</summary>
    CheckCounter,
}
