using System.Text;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Paas.Controller.State;

/// <summary>
/// One etcd cluster as the state stores use it: reads, writes and transactions with deadlines, and the
/// translation of a cluster that cannot commit into <see cref="StateStoreUnavailableException"/>.
/// Reads are linearizable while the cluster has a leader; when it has none they fall back to serializable
/// reads (a member's own, possibly slightly stale copy), so what can be read goes on being served.
/// </summary>
public sealed class EtcdConnection : IDisposable
{
    // Each attempt gets AttemptTimeout; a request goes on to other members until its whole budget is spent.
    // A healthy cluster commits in milliseconds; when the leader dies, a proposal it was sent is lost and a
    // new leader is elected within one or two seconds, so the second attempt lands.
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(1);
    // After a linearizable read failed, reads go straight to serializable for this long instead of waiting again.
    private static readonly TimeSpan DegradedReadsFor = TimeSpan.FromSeconds(5);

    // etcd answers "no leader" at once to a request with this header when the member knows of no leader,
    // instead of holding a proposal it cannot commit until its own timeout.
    private static readonly Metadata RequireLeader = new() { { "hasleader", "true" } };

    private readonly IReadOnlyList<EtcdClient> _members;
    // Lease keep-alives are a bidirectional stream in etcd's API; dotnet-etcd's helpers keep that stream open
    // for the life of a token, so each renewal here opens one, sends one request and reads one answer.
    private readonly IReadOnlyList<Etcdserverpb.Lease.LeaseClient> _leases;
    private readonly IReadOnlyList<Grpc.Net.Client.GrpcChannel> _leaseChannels;
    private readonly TimeProvider _time;
    private long _serializableUntilTicks;
    // The member calls go to first: the last one that answered. A member that refuses connections is skipped.
    private int _preferred;

    public EtcdConnection(IReadOnlyList<string> endpoints, string prefix, TimeProvider time)
    {
        if (endpoints.Count == 0)
            throw new ArgumentException("PAAS_ETCD_ENDPOINTS names no endpoint; give one or more URLs like http://10.0.0.1:2379, comma-separated.");
        foreach (var endpoint in endpoints)
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new ArgumentException($"PAAS_ETCD_ENDPOINTS: '{endpoint}' is not an http(s) URL like http://10.0.0.1:2379.");
        }
        Endpoints = endpoints;
        Keys = new EtcdKeys(prefix);
        _time = time;
        // One client per member, without gRPC's own retries: this class decides where a failed call goes
        // next, and a retrying client spends the whole deadline on a member that refuses connections.
        _members = endpoints.Select(e => new EtcdClient(e, configureChannelOptions: options =>
        {
            options.ServiceConfig = new Grpc.Net.Client.Configuration.ServiceConfig { LoadBalancingConfigs = { new Grpc.Net.Client.Configuration.PickFirstConfig() } };
            options.MaxRetryAttempts = 0;
        })).ToList();
        _leaseChannels = endpoints.Select(e => Grpc.Net.Client.GrpcChannel.ForAddress(e, new Grpc.Net.Client.GrpcChannelOptions { MaxRetryAttempts = 0 })).ToList();
        _leases = _leaseChannels.Select(c => new Etcdserverpb.Lease.LeaseClient(c)).ToList();
        // The store's interface is synchronous (as SQLite is), so each call blocks a pool thread while gRPC
        // completes it on another: without spare threads, a burst of concurrent calls (16 in the contract
        // test) starves the pool and every call misses its deadline.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));
    }

    /// <summary>Parses <c>PAAS_ETCD_ENDPOINTS</c> (comma-separated URLs).</summary>
    public static IReadOnlyList<string> ParseEndpoints(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public IReadOnlyList<string> Endpoints { get; }

    public EtcdKeys Keys { get; }

    public static ByteString Bytes(string value) => ByteString.CopyFromUtf8(value);

    /// <summary>The first key after every key that starts with <paramref name="prefix"/>.</summary>
    public static ByteString PrefixEnd(string prefix)
    {
        var bytes = Encoding.UTF8.GetBytes(prefix);
        bytes[^1]++; // prefixes end in '/', never in 0xff
        return ByteString.CopyFrom(bytes);
    }

    public RangeResponse Get(string key) => Range(new RangeRequest { Key = Bytes(key) });

    public RangeResponse GetPrefix(string prefix, long limit = 0, RangeRequest.Types.SortTarget sortBy = RangeRequest.Types.SortTarget.Key,
        RangeRequest.Types.SortOrder order = RangeRequest.Types.SortOrder.None, bool keysOnly = false, bool countOnly = false) =>
        Range(new RangeRequest
        {
            Key = Bytes(prefix), RangeEnd = PrefixEnd(prefix), Limit = limit, SortTarget = sortBy, SortOrder = order,
            KeysOnly = keysOnly, CountOnly = countOnly,
        });

    /// <summary>A read: linearizable when the cluster has a leader, else the member's own copy.</summary>
    public RangeResponse Range(RangeRequest request)
    {
        if (_time.GetUtcNow().UtcTicks >= Interlocked.Read(ref _serializableUntilTicks))
        {
            try
            {
                return Call((member, deadline) => member.Get(request, RequireLeader, deadline), ReadTimeout);
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                Interlocked.Exchange(ref _serializableUntilTicks, (_time.GetUtcNow() + DegradedReadsFor).UtcTicks);
            }
        }
        try
        {
            var serializable = request.Clone();
            serializable.Serializable = true;
            // Any one live member can answer this, so refusals from most of them are no reason to stop.
            return Call((member, deadline) => member.Get(serializable, deadline: deadline), ReadTimeout, anyMemberWillDo: true);
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw new StateStoreUnavailableException(Describe(reading: true), e);
        }
    }

    /// <summary>A write (or a compare-and-swap): fails with <see cref="StateStoreUnavailableException"/> when the cluster cannot commit it.</summary>
    public TxnResponse Transaction(TxnRequest request)
    {
        try
        {
            var response = Call((member, deadline) => member.Transaction(request, RequireLeader, deadline), WriteTimeout);
            Interlocked.Exchange(ref _serializableUntilTicks, 0);
            return response;
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw new StateStoreUnavailableException(Describe(reading: false), e);
        }
    }

    /// <summary>
    /// Calls the preferred member, moving on to the next when one fails or does not answer in time, until
    /// <paramref name="budget"/> is spent. A timed-out write may have been committed after all, so every
    /// write sent here must be safe to send twice: unconditional puts and deletes are; a compare-and-swap
    /// that finds its own value already there counts as done (see <see cref="EtcdStateStore"/>).
    /// Gives up at once when most members refuse connections: no quorum can answer then (or, for a call any one
    /// member can answer, when all of them refuse).
    /// </summary>
    private T Call<T>(Func<EtcdClient, DateTime, T> call, TimeSpan budget, bool anyMemberWillDo = false)
    {
        var until = _time.GetUtcNow() + budget;
        var start = Volatile.Read(ref _preferred);
        var refused = new HashSet<int>();
        for (var attempt = 0; ; attempt++)
        {
            var index = (start + attempt) % _members.Count;
            var now = _time.GetUtcNow();
            try
            {
                var result = call(_members[index], (now + (until - now < AttemptTimeout ? until - now : AttemptTimeout)).UtcDateTime);
                Volatile.Write(ref _preferred, index);
                return result;
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                if (IsConnectionRefused(e))
                    refused.Add(index);
                else
                    refused.Remove(index);
                var hopeless = anyMemberWillDo ? refused.Count == _members.Count : refused.Count * 2 >= _members.Count;
                if (hopeless || _time.GetUtcNow() >= until)
                    throw;
                // Once every member was tried, wait a little for an election before the next round.
                if ((attempt + 1) % _members.Count == 0)
                    Thread.Sleep(100);
            }
        }
    }

    private static bool IsConnectionRefused(Exception e) =>
        e is RpcException { StatusCode: StatusCode.Unavailable } rpc && rpc.Status.DebugException is HttpRequestException or System.Net.Sockets.SocketException;

    /// <summary>Unconditional puts and deletes, atomically.</summary>
    public TxnResponse Write(params RequestOp[] operations)
    {
        var request = new TxnRequest();
        request.Success.AddRange(operations);
        return Transaction(request);
    }

    public static RequestOp Put(string key, string value, long lease = 0) => new() { RequestPut = new PutRequest { Key = Bytes(key), Value = Bytes(value), Lease = lease } };

    public static RequestOp Delete(string key) => new() { RequestDeleteRange = new DeleteRangeRequest { Key = Bytes(key) } };

    public static RequestOp DeletePrefix(string prefix) => new() { RequestDeleteRange = new DeleteRangeRequest { Key = Bytes(prefix), RangeEnd = PrefixEnd(prefix) } };

    public static RequestOp Read(string key) => new() { RequestRange = new RangeRequest { Key = Bytes(key) } };

    /// <summary>The key does not exist.</summary>
    public static Compare Missing(string key) => new() { Key = Bytes(key), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 };

    /// <summary>The key exists.</summary>
    public static Compare Exists(string key) => new() { Key = Bytes(key), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Greater, CreateRevision = 0 };

    /// <summary>The key is as it was at <paramref name="modRevision"/> (0: still missing).</summary>
    public static Compare Unchanged(string key, long modRevision) =>
        new() { Key = Bytes(key), Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = modRevision };

    /// <summary>No key under <paramref name="prefix"/> was written after <paramref name="revision"/> (deletions aside).</summary>
    public static Compare NothingWrittenUnderSince(string prefix, long revision) => new()
    {
        Key = Bytes(prefix), RangeEnd = PrefixEnd(prefix), Target = Compare.Types.CompareTarget.Mod,
        Result = Compare.Types.CompareResult.Less, ModRevision = revision + 1,
    };

    public static Compare ValueIs(string key, string value) =>
        new() { Key = Bytes(key), Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = Bytes(value) };

    /// <summary>A new lease of <paramref name="ttl"/> (whole seconds); keys written with it vanish when it is not renewed in time.</summary>
    public long GrantLease(TimeSpan ttl)
    {
        try
        {
            return Call((member, deadline) => member.LeaseGrant(new LeaseGrantRequest { TTL = (long)Math.Ceiling(ttl.TotalSeconds) }, RequireLeader, deadline), WriteTimeout).ID;
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw new StateStoreUnavailableException(Describe(reading: false), e);
        }
    }

    /// <summary>Renews a lease: false when it has already expired (or was revoked), so its keys are gone.</summary>
    public bool KeepAlive(long lease)
    {
        try
        {
            // One attempt's worth of time: a renewal that cannot land quickly is better retried at the next tick.
            return Call((member, deadline) => KeepAliveOnce(_leases[IndexOf(member)], lease, deadline), AttemptTimeout) > 0;
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw new StateStoreUnavailableException(Describe(reading: false), e);
        }
    }

    public void RevokeLease(long lease)
    {
        try
        {
            Call((member, deadline) => member.LeaseRevoke(new LeaseRevokeRequest { ID = lease }, RequireLeader, deadline), AttemptTimeout);
        }
        catch (Exception e) when (IsUnavailable(e) || e is RpcException { StatusCode: StatusCode.NotFound })
        {
            // Not revoked: it expires on its own within its TTL.
        }
    }

    private int IndexOf(EtcdClient member)
    {
        for (var i = 0; i < _members.Count; i++)
        {
            if (ReferenceEquals(_members[i], member))
                return i;
        }
        throw new InvalidOperationException("not a member of this connection");
    }

    private static long KeepAliveOnce(Etcdserverpb.Lease.LeaseClient client, long lease, DateTime deadline)
    {
        return Run().GetAwaiter().GetResult();

        async Task<long> Run()
        {
            using var call = client.LeaseKeepAlive(RequireLeader, deadline);
            await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = lease });
            await call.RequestStream.CompleteAsync();
            if (!await call.ResponseStream.MoveNext(CancellationToken.None))
                throw new RpcException(new Status(StatusCode.Unavailable, "the keep-alive stream ended without an answer"));
            return call.ResponseStream.Current.TTL;
        }
    }

    /// <summary>Throws <see cref="StateStoreUnavailableException"/> unless the cluster can serve a linearizable read now.</summary>
    public void Ping()
    {
        try
        {
            Call((member, deadline) => member.Get(new RangeRequest { Key = Bytes(Keys.Root), Limit = 1 }, RequireLeader, deadline), ReadTimeout);
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw new StateStoreUnavailableException(Describe(reading: false), e);
        }
    }

    /// <summary>
    /// One sentence on why the cluster did not answer: how many members answer at all, and whether they
    /// are a majority. Members are the configured endpoints (every member should be listed).
    /// </summary>
    private string Describe(bool reading)
    {
        var statuses = _members.Select(member => Task.Run(() =>
        {
            try
            {
                return member.Status(new StatusRequest(), deadline: Deadline(StatusTimeout));
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                return null;
            }
        })).ToArray();
        Task.WaitAll(statuses);
        var answering = statuses.Count(s => s.Result is not null);
        var total = _members.Count;
        if (reading)
            return $"The state store cannot be read: {answering} of {total} members reachable.";
        return answering * 2 <= total || statuses.All(s => s.Result is null || s.Result.Leader == 0)
            ? $"The state store has no quorum: {answering} of {total} members reachable; writes are refused until a majority is back."
            : $"The state store did not confirm the write in time ({answering} of {total} members reachable); try again.";
    }

    // dotnet-etcd passes on gRPC's RpcException, but a deadline can also surface as the cancelled HTTP/2 call itself.
    private static bool IsUnavailable(Exception e) => e switch
    {
        RpcException rpc => rpc.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled
            // etcd's own "etcdserver: request timed out" / "leader changed" come as Unknown, and so does its
            // "context deadline exceeded" (a linearizable read that waited for a leader, or a lease keep-alive
            // stream ended by a member without quorum; both seen with 2 of 3 members down).
            || (rpc.StatusCode == StatusCode.Unknown && (rpc.Status.Detail.StartsWith("etcdserver:", StringComparison.Ordinal)
                || rpc.Status.Detail == "context deadline exceeded")),
        OperationCanceledException or HttpRequestException or IOException => true,
        _ => false,
    };

    private DateTime Deadline(TimeSpan timeout) => (_time.GetUtcNow() + timeout).UtcDateTime;

    public void Dispose()
    {
        foreach (var member in _members)
            member.Dispose();
        foreach (var channel in _leaseChannels)
            channel.Dispose();
    }
}

/// <summary>
/// Where everything lives in etcd, under one prefix per platform (<c>/paas/</c> by default):
/// <code>
/// settings/KEY                 value
/// users/NAME                   {role, created_at}
/// tokens/SHA256                {id, user, created_at, description}   (the hash is the key: lookups by hash are one read)
/// apps/NAME                    {owner, created_at}
/// app/NAME/config              {name: value}                         (one key, so a replace is one write)
/// app/NAME/buildpacks          [url, ...]
/// app/NAME/routing             AppRouteOptions JSON (as the routers read it)
/// app/NAME/registry-logins     {registry: {username, password}}      (`paas registry:login`; secrets, never logged)
/// app/NAME/formation/PROCESS   {quantity, memory_mb}
/// app/NAME/healthchecks/PROC   health check spec
/// app/NAME/releases/0000000042 release v42 (zero-padded so key order is version order)
/// app/NAME/release-seq         last version handed out
/// app/NAME/collaborators/USER  created_at
/// app/NAME/events/ID           event; ordered by etcd's create revision
/// collaborations/USER/APP      created_at                            (the same pairs by user, for listing a user's apps)
/// domains/HOSTNAME             {app, created_at}
/// controllers/leader           {id, address} of the controller holding the leader lease  (with its lease)
/// controllers/members/ID       {id, address} of every live controller                    (each with its own lease)
/// </code>
/// Deleting an app deletes <c>app/NAME/</c> in one range.
/// </summary>
public sealed class EtcdKeys
{
    public EtcdKeys(string prefix)
    {
        if (!prefix.StartsWith('/') || !prefix.EndsWith('/'))
            throw new ArgumentException($"The etcd prefix must start and end with '/' (like /paas/), not '{prefix}'.");
        Root = prefix;
    }

    public string Root { get; }
    public string Setting(string key) => $"{Root}settings/{key}";
    public string Users => $"{Root}users/";
    public string User(string name) => Users + name;
    public string Tokens => $"{Root}tokens/";
    public string Token(string hash) => Tokens + hash;
    public string Apps => $"{Root}apps/";
    public string App(string name) => Apps + name;
    public string AppData(string app) => $"{Root}app/{app}/";
    public string Config(string app) => AppData(app) + "config";
    public string Buildpacks(string app) => AppData(app) + "buildpacks";
    public string RouteOptions(string app) => AppData(app) + "routing";
    public string RegistryCredentials(string app) => AppData(app) + "registry-logins";
    public string FormationOf(string app) => AppData(app) + "formation/";
    public string Volumes(string app) => AppData(app) + "volumes/";
    public string Volume(string app, string volume) => Volumes(app) + volume;
    public string HealthCheck(string app, string process) => AppData(app) + "healthchecks/" + process;
    public string Releases(string app) => AppData(app) + "releases/";
    public string Release(string app, int version) => Releases(app) + version.ToString("D10", System.Globalization.CultureInfo.InvariantCulture);
    public string Deploys(string app) => AppData(app) + "deploys/";
    public string Deploy(string app, int version) => Deploys(app) + version.ToString("D10", System.Globalization.CultureInfo.InvariantCulture);
    public string BuildOutputs(string app) => AppData(app) + "build-output/";
    public string BuildOutput(string app, int version) => BuildOutputs(app) + version.ToString("D10", System.Globalization.CultureInfo.InvariantCulture);
    public string RunSequence(string app) => AppData(app) + "run-seq";
    public string ReleaseSequence(string app) => AppData(app) + "release-seq";
    public string Collaborators(string app) => AppData(app) + "collaborators/";
    public string Collaborations(string user) => $"{Root}collaborations/{user}/";
    public string Events(string app) => AppData(app) + "events/";
    public string Domains => $"{Root}domains/";
    public string Renames => $"{Root}renames/";
    public string Rename(string from) => Renames + from;
    public string Addons => $"{Root}addons/";
    public string Addon(string id) => Addons + id;
    public string Domain(string hostname) => Domains + hostname;
    /// <summary>One key per app, written with each change of its desired state: its mod revision is the app's change stamp (<see cref="IStateStore.AppsChangedSince"/>).</summary>
    public string Changes => $"{Root}changes/";
    public string Changed(string app) => Changes + app;
    /// <summary>The leader controller's {id, address}, written with its lease.</summary>
    public string Leader => $"{Root}controllers/leader";
    /// <summary>Every live controller's address, each written with its own lease (where pushes are replicated to).</summary>
    public string Controllers => $"{Root}controllers/members/";
    public string Controller(string id) => Controllers + id;
}
