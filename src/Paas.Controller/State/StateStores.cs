using Paas.Core.Configuration;

namespace Paas.Controller.State;

/// <summary>Chooses the state store: etcd when <c>PAAS_ETCD_ENDPOINTS</c> is set, else the SQLite file in the data directory.</summary>
public static class StateStores
{
    /// <summary>The stores, and the etcd connection when there is one (controllers elect their leader on it).</summary>
    public static (IStateStore State, IDomainStore Domains, EtcdConnection? Etcd) Open(PaasSettings settings, string dataDir, TimeProvider time)
    {
        if (settings.EtcdEndpoints.Count > 0)
        {
            var etcd = new EtcdConnection(settings.EtcdEndpoints, settings.EtcdPrefix, time);
            return (new EtcdStateStore(etcd, time, Random.Shared), new EtcdDomainStore(etcd, time), etcd);
        }
        var file = new SqliteFile(Path.Combine(dataDir, "paas.db"));
        return (new PlatformDatabase(file, time), new DomainStore(file, time), null);
    }
}
