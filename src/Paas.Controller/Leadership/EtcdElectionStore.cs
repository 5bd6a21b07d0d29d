using System.Text.Json;
using Etcdserverpb;
using Paas.Controller.State;

namespace Paas.Controller.Leadership;

/// <summary>The election on etcd: the leader key and the member keys live exactly as long as their controller's lease.</summary>
public sealed class EtcdElectionStore(EtcdConnection etcd) : IElectionStore
{
    public long GrantLease(TimeSpan ttl) => etcd.GrantLease(ttl);

    public bool KeepAlive(long lease) => etcd.KeepAlive(lease);

    public void RevokeLease(long lease) => etcd.RevokeLease(lease);

    public ControllerIdentity? Campaign(ControllerIdentity me, long lease)
    {
        var key = etcd.Keys.Leader;
        var request = new TxnRequest();
        request.Compare.Add(EtcdConnection.Missing(key));
        request.Success.Add(EtcdConnection.Put(key, JsonSerializer.Serialize(me), lease));
        request.Failure.Add(EtcdConnection.Read(key));
        // A write sent again after a timeout finds the key it wrote the first time: the value read back says so.
        var response = etcd.Transaction(request);
        if (response.Succeeded)
            return me;
        var kvs = response.Responses[0].ResponseRange.Kvs;
        return kvs.Count == 0 ? null : JsonSerializer.Deserialize<ControllerIdentity>(kvs[0].Value.ToStringUtf8());
    }

    public void Register(ControllerIdentity me, long lease) =>
        etcd.Write(EtcdConnection.Put(etcd.Keys.Controller(me.Id), JsonSerializer.Serialize(me), lease));

    public IReadOnlyList<ControllerIdentity> Members() =>
        etcd.GetPrefix(etcd.Keys.Controllers).Kvs.Select(kv => JsonSerializer.Deserialize<ControllerIdentity>(kv.Value.ToStringUtf8())!).ToList();
}
