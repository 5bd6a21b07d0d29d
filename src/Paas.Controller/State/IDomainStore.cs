namespace Paas.Controller.State;

/// <summary>
/// Custom domains: a hostname belongs to at most one app, and no app's domain overlaps another app's
/// (<see cref="Paas.Core.Domains.DomainName.Overlaps"/>). Deleting an app deletes its domains
/// (<see cref="IStateStore.DeleteApp"/>). Implemented by <see cref="DomainStore"/> (SQLite) and
/// <see cref="EtcdDomainStore"/>.
/// </summary>
public interface IDomainStore
{
    /// <summary>
    /// Adds the hostname to the app, checking uniqueness and overlap in the same transaction. When the hostname
    /// is taken (by this app or another) or overlaps another app's domain, returns false and that domain.
    /// </summary>
    bool TryAdd(string app, string hostname, out DomainRecord domain);
    DomainRecord? Find(string hostname);
    IReadOnlyList<DomainRecord> ListForApp(string app);
    /// <summary>Every app's domains in one read, for a full pass.</summary>
    IReadOnlyList<DomainRecord> ListAll();
    bool Remove(string app, string hostname);
}

/// <summary>The one rule both domain stores apply before adding a hostname.</summary>
public static class DomainConflict
{
    /// <summary>The domain that keeps <paramref name="app"/> from adding <paramref name="hostname"/>: the same name (any app's), else another app's overlapping name.</summary>
    public static DomainRecord? Find(IReadOnlyList<DomainRecord> existing, string app, string hostname) =>
        existing.FirstOrDefault(d => d.Hostname == hostname)
        ?? existing.FirstOrDefault(d => d.App != app && Paas.Core.Domains.DomainName.Overlaps(d.Hostname, hostname));
}
