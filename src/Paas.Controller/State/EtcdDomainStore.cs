using System.Text.Json;
using Etcdserverpb;
using Paas.Core.Domains;
using static Paas.Controller.State.EtcdConnection;

namespace Paas.Controller.State;

/// <summary>
/// The etcd <see cref="IDomainStore"/>: one key per hostname under <c>domains/</c> (<see cref="EtcdKeys"/>).
/// Adding reads every domain, checks uniqueness and overlap, and writes only if no domain was written since
/// that read (a compare over the whole <c>domains/</c> range), so two controllers cannot add overlapping names at once.
/// </summary>
public sealed class EtcdDomainStore(EtcdConnection etcd, TimeProvider time) : IDomainStore
{
    private const int CasAttempts = 100;

    internal sealed record StoredDomain(string App, DateTimeOffset CreatedAt);

    public bool TryAdd(string app, string hostname, out DomainRecord domain)
    {
        var keys = etcd.Keys;
        for (var attempt = 0; attempt < CasAttempts; attempt++)
        {
            var all = etcd.GetPrefix(keys.Domains);
            var existing = all.Kvs.Select(ToRecord).ToList();
            if (DomainConflict.Find(existing, app, hostname) is { } taken)
            {
                domain = taken;
                return false;
            }
            var added = new StoredDomain(app, time.GetUtcNow());
            var request = new TxnRequest();
            request.Compare.Add(NothingWrittenUnderSince(keys.Domains, all.Header.Revision));
            request.Compare.Add(Exists(keys.App(app)));
            request.Success.Add(Put(keys.Domain(hostname), JsonSerializer.Serialize(added)));
            if (etcd.Transaction(request).Succeeded)
            {
                domain = new DomainRecord(hostname, app, added.CreatedAt);
                return true;
            }
            if (etcd.Get(keys.App(app)).Kvs.Count == 0)
                throw new InvalidOperationException($"Cannot add {hostname}: there is no app {app}.");
        }
        throw new StateStoreUnavailableException($"The state store is too busy: {hostname} was not added after {CasAttempts} attempts.");
    }

    public DomainRecord? Find(string hostname)
    {
        var response = etcd.Get(etcd.Keys.Domain(hostname));
        return response.Kvs.Count == 0 ? null : ToRecord(response.Kvs[0]);
    }

    public IReadOnlyList<DomainRecord> ListForApp(string app) =>
        etcd.GetPrefix(etcd.Keys.Domains).Kvs.Select(ToRecord).Where(d => d.App == app).OrderBy(d => d.Hostname, StringComparer.Ordinal).ToList();

    public IReadOnlyList<DomainRecord> ListAll() =>
        etcd.GetPrefix(etcd.Keys.Domains).Kvs.Select(ToRecord).OrderBy(d => d.Hostname, StringComparer.Ordinal).ToList();

    public bool Remove(string app, string hostname)
    {
        var request = new TxnRequest();
        request.Compare.Add(ValueOwnedBy(hostname, app));
        request.Success.Add(Delete(etcd.Keys.Domain(hostname)));
        return etcd.Transaction(request).Succeeded;
    }

    // Only the app's own domain is removed: compare on the stored value as read, so a concurrent change fails the delete.
    private Compare ValueOwnedBy(string hostname, string app)
    {
        var current = etcd.Get(etcd.Keys.Domain(hostname));
        if (current.Kvs.Count == 0 || ToRecord(current.Kvs[0]).App != app)
            return Unchanged(etcd.Keys.Domain(hostname), -1); // never true
        return Unchanged(etcd.Keys.Domain(hostname), current.Kvs[0].ModRevision);
    }

    private DomainRecord ToRecord(Mvccpb.KeyValue kv)
    {
        var stored = JsonSerializer.Deserialize<StoredDomain>(kv.Value.Span)!;
        return new DomainRecord(kv.Key.ToStringUtf8()[etcd.Keys.Domains.Length..], stored.App, stored.CreatedAt);
    }
}
