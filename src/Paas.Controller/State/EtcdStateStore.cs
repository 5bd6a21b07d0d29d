using System.Globalization;
using System.Text.Json;
using Etcdserverpb;
using Paas.Core.Instances;
using Paas.Core.Routing;
using static Paas.Controller.State.EtcdConnection;

namespace Paas.Controller.State;

/// <summary>
/// The <see cref="IStateStore"/> for several controllers: an etcd cluster (<c>PAAS_ETCD_ENDPOINTS</c>), keys
/// as in <see cref="EtcdKeys"/>. Where SQLite relies on a uniqueness constraint or a transaction, this uses
/// an etcd transaction that compares create or mod revisions, retried when another writer got there first.
/// </summary>
public sealed class EtcdStateStore : IStateStore
{
    private const int CasAttempts = 100;
    private readonly EtcdConnection _etcd;
    private readonly EtcdKeys _keys;
    private readonly TimeProvider _time;
    // Event keys need only be unique; order comes from etcd's create revision. The nonce keeps two controllers'
    // keys apart without coordination.
    private readonly string _eventNonce;
    private long _eventCounter;

    private readonly int _eventsKept;

    public EtcdStateStore(EtcdConnection etcd, TimeProvider time, Random random, int eventsKeptPerApp = IStateStore.EventsKeptPerApp)
    {
        _eventsKept = eventsKeptPerApp;
        _etcd = etcd;
        _keys = etcd.Keys;
        _time = time;
        _eventNonce = random.Next().ToString("x8", CultureInfo.InvariantCulture);
    }

    private sealed record StoredUser(string Role, DateTimeOffset CreatedAt);
    private sealed record StoredToken(string Id, string User, DateTimeOffset CreatedAt, string Description);
    private sealed record StoredApp(string Owner, DateTimeOffset CreatedAt);
    private sealed record StoredFormation(int Quantity, int? MemoryMb);
    private sealed record StoredEvent(DateTimeOffset At, string Actor, string Kind, string Message);
    private sealed record StoredRelease(
        int Version, string Image, string Commit, string Buildpack, Dictionary<string, string> ProcessTypes, DateTimeOffset CreatedAt,
        Dictionary<string, string> Config, Dictionary<string, string> Defaults, string Description, string? RegistryImage);

    private static string Json<T>(T value) => JsonSerializer.Serialize(value);

    private static T Parse<T>(Google.Protobuf.ByteString value) => JsonSerializer.Deserialize<T>(value.Span)!;

    private T? One<T>(string key) where T : class
    {
        var response = _etcd.Get(key);
        return response.Kvs.Count == 0 ? null : Parse<T>(response.Kvs[0].Value);
    }

    /// <summary>
    /// A create-only write: true when it stored <paramref name="value"/> (and <paramref name="alsoPut"/>), or
    /// when the value found is exactly the one sent, which means an earlier attempt of this same call committed
    /// before its answer was lost (<see cref="EtcdConnection"/> sends a timed-out write again). The values
    /// carry their creation time to the tick, so another caller's value does not match.
    /// </summary>
    private bool Create(string key, string value, out string stored, params RequestOp[] alsoPut)
    {
        var request = new TxnRequest();
        request.Compare.Add(Missing(key));
        request.Success.Add(Put(key, value));
        request.Success.AddRange(alsoPut);
        request.Failure.Add(Read(key));
        var response = _etcd.Transaction(request);
        stored = response.Succeeded ? value : response.Responses[0].ResponseRange.Kvs[0].Value.ToStringUtf8();
        return stored == value;
    }

    // Users and tokens

    public bool TryCreateUser(string name, string role)
    {
        return Create(_keys.User(name), Json(new StoredUser(role, _time.GetUtcNow())), out _);
    }

    public UserRecord? FindUser(string name) =>
        One<StoredUser>(_keys.User(name)) is { } user ? new UserRecord(name, user.Role, user.CreatedAt) : null;

    public IReadOnlyList<UserRecord> ListUsers() =>
        _etcd.GetPrefix(_keys.Users).Kvs
            .Select(kv => (Name: kv.Key.ToStringUtf8()[_keys.Users.Length..], User: Parse<StoredUser>(kv.Value)))
            .Select(u => new UserRecord(u.Name, u.User.Role, u.User.CreatedAt))
            .OrderBy(u => u.Name, StringComparer.Ordinal)
            .ToList();

    public bool DeleteUser(string name)
    {
        var operations = new List<RequestOp> { Delete(_keys.User(name)) };
        foreach (var kv in _etcd.GetPrefix(_keys.Tokens).Kvs)
        {
            if (Parse<StoredToken>(kv.Value).User == name)
                operations.Add(Delete(kv.Key.ToStringUtf8()));
        }
        var collaborations = _keys.Collaborations(name);
        foreach (var kv in _etcd.GetPrefix(collaborations, keysOnly: true).Kvs)
            operations.Add(Delete(_keys.Collaborators(kv.Key.ToStringUtf8()[collaborations.Length..]) + name));
        operations.Add(DeletePrefix(collaborations));
        return _etcd.Write([.. operations]).Responses[0].ResponseDeleteRange.Deleted > 0;
    }

    public void AddToken(string id, string hash, string user, string description)
    {
        if (!Create(_keys.Token(hash), Json(new StoredToken(id, user, _time.GetUtcNow(), description)), out _))
            throw new InvalidOperationException("A token with this hash is stored already.");
    }

    public TokenRecord? FindTokenByHash(string hash)
    {
        if (One<StoredToken>(_keys.Token(hash)) is not { } token || FindUser(token.User) is not { } user)
            return null;
        return new TokenRecord(token.Id, token.User, user.Role, token.CreatedAt) { Description = token.Description };
    }

    public IReadOnlyList<TokenRecord> ListTokens(string user)
    {
        if (FindUser(user) is not { } owner)
            return [];
        return _etcd.GetPrefix(_keys.Tokens).Kvs
            .Select(kv => Parse<StoredToken>(kv.Value))
            .Where(t => t.User == user)
            .OrderBy(t => t.CreatedAt)
            .Select(t => new TokenRecord(t.Id, t.User, owner.Role, t.CreatedAt) { Description = t.Description })
            .ToList();
    }

    public bool DeleteToken(string user, string id)
    {
        foreach (var kv in _etcd.GetPrefix(_keys.Tokens).Kvs)
        {
            var token = Parse<StoredToken>(kv.Value);
            if (token.User == user && token.Id == id)
                return _etcd.Write(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = kv.Key } }).Responses[0].ResponseDeleteRange.Deleted > 0;
        }
        return false;
    }

    public bool AnyTokens() => _etcd.GetPrefix(_keys.Tokens, countOnly: true).Count > 0;

    // Collaborators

    public IReadOnlyList<string> Collaborators(string app)
    {
        var prefix = _keys.Collaborators(app);
        return _etcd.GetPrefix(prefix, keysOnly: true).Kvs.Select(kv => kv.Key.ToStringUtf8()[prefix.Length..]).ToList();
    }

    public bool IsCollaborator(string app, string user) => _etcd.Get(_keys.Collaborators(app) + user).Kvs.Count > 0;

    public bool AddCollaborator(string app, string user)
    {
        var request = new TxnRequest();
        request.Compare.Add(Missing(_keys.Collaborators(app) + user));
        request.Compare.Add(Exists(_keys.App(app)));
        request.Compare.Add(Exists(_keys.User(user)));
        var now = _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
        request.Success.Add(Put(_keys.Collaborators(app) + user, now));
        request.Success.Add(Put(_keys.Collaborations(user) + app, now));
        if (_etcd.Transaction(request).Succeeded)
            return true;
        if (IsCollaborator(app, user))
            return false;
        throw new InvalidOperationException($"Cannot add {user} to {app}: the app or the user does not exist.");
    }

    public bool RemoveCollaborator(string app, string user) =>
        _etcd.Write(Delete(_keys.Collaborators(app) + user), Delete(_keys.Collaborations(user) + app)).Responses[0].ResponseDeleteRange.Deleted > 0;

    // Config

    public IReadOnlyDictionary<string, string> Config(string app) =>
        One<Dictionary<string, string>>(_keys.Config(app)) is { } config
            ? new Dictionary<string, string>(config.OrderBy(c => c.Key, StringComparer.Ordinal), StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);

    public void ReplaceConfig(string app, IReadOnlyDictionary<string, string> config) =>
        _etcd.Write(Put(_keys.Config(app), Json(config)), Changed(app));

    // Change stamps: the app's key under Changes is put in the same transaction as the write, so its mod revision
    // is that write's revision. Outside the app's data, so a deletion's stamp outlives the app.

    private RequestOp Changed(string app) => Put(_keys.Changed(app), "");

    public (IReadOnlyList<string> Apps, long Stamp) AppsChangedSince(long since)
    {
        var response = _etcd.Range(new RangeRequest
        {
            Key = Bytes(_keys.Changes), RangeEnd = PrefixEnd(_keys.Changes), KeysOnly = true, MinModRevision = since + 1,
        });
        var apps = response.Kvs.Select(kv => kv.Key.ToStringUtf8()[_keys.Changes.Length..]).ToList();
        // The revision the read saw: every write up to it is in the answer, so the next question starts there.
        return (apps, Math.Max(since, response.Header.Revision));
    }

    public IReadOnlyDictionary<string, ReleaseRecord> CurrentReleases()
    {
        var apps = ListApps().Select(a => a.Name).ToList();
        var newest = ReadMany(apps.Select(app => new RangeRequest
        {
            Key = Bytes(_keys.Releases(app)), RangeEnd = PrefixEnd(_keys.Releases(app)), Limit = 1,
            SortTarget = RangeRequest.Types.SortTarget.Key, SortOrder = RangeRequest.Types.SortOrder.Descend,
        }));
        var result = new Dictionary<string, ReleaseRecord>(StringComparer.Ordinal);
        for (var i = 0; i < apps.Count; i++)
        {
            if (newest[i].Kvs.Count > 0 && ToRecord(apps[i], Parse<StoredRelease>(newest[i].Kvs[0].Value)) is { HasBuild: true } current)
                result[apps[i]] = current;
        }
        return result;
    }

    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, FormationEntry>> Formations()
    {
        var apps = ListApps().Select(a => a.Name).ToList();
        var formations = ReadMany(apps.Select(app => new RangeRequest { Key = Bytes(_keys.FormationOf(app)), RangeEnd = PrefixEnd(_keys.FormationOf(app)) }));
        var result = new Dictionary<string, IReadOnlyDictionary<string, FormationEntry>>(StringComparer.Ordinal);
        for (var i = 0; i < apps.Count; i++)
        {
            if (formations[i].Kvs.Count > 0)
                result[apps[i]] = ToFormation(apps[i], formations[i].Kvs);
        }
        return result;
    }

    public IReadOnlyDictionary<string, AppRouteOptions> AllRouteOptions()
    {
        var apps = ListApps().Select(a => a.Name).ToList();
        var stored = ReadMany(apps.Select(app => new RangeRequest { Key = Bytes(_keys.RouteOptions(app)) }));
        var result = new Dictionary<string, AppRouteOptions>(StringComparer.Ordinal);
        for (var i = 0; i < apps.Count; i++)
        {
            if (stored[i].Kvs.Count > 0 && RoutingJson.TryReadOptions(stored[i].Kvs[0].Value.ToStringUtf8(), out var options))
                result[apps[i]] = options;
        }
        return result;
    }

    /// <summary>etcd's default limit of operations in one transaction (<c>--max-txn-ops</c>).</summary>
    private const int MaxTxnOps = 128;

    /// <summary>
    /// Many reads in few round trips: read-only transactions of up to <see cref="MaxTxnOps"/> ranges each (a full pass
    /// over 1,000 apps makes 8 calls, not 1,000). Without a quorum a transaction is refused; the reads then go one by one,
    /// which may be answered from a member's own copy as every read is then.
    /// </summary>
    private List<RangeResponse> ReadMany(IEnumerable<RangeRequest> requests)
    {
        var results = new List<RangeResponse>();
        foreach (var chunk in requests.Chunk(MaxTxnOps))
        {
            var request = new TxnRequest();
            request.Success.AddRange(chunk.Select(r => new RequestOp { RequestRange = r }));
            try
            {
                results.AddRange(_etcd.Transaction(request).Responses.Select(r => r.ResponseRange));
            }
            catch (StateStoreUnavailableException)
            {
                results.AddRange(chunk.Select(_etcd.Range));
            }
        }
        return results;
    }

    // Apps

    public bool TryCreateApp(string name, string owner, out AppRecord app)
    {
        // A new app starts with no data: a rename to this name that died before its flip may have copied some here.
        var created = Create(_keys.App(name), Json(new StoredApp(owner, _time.GetUtcNow())), out var stored, DeletePrefix(_keys.AppData(name)));
        var found = JsonSerializer.Deserialize<StoredApp>(stored)!;
        app = new AppRecord(name, found.CreatedAt, found.Owner);
        return created;
    }

    public AppRecord? FindApp(string name) =>
        One<StoredApp>(_keys.App(name)) is { } app ? new AppRecord(name, app.CreatedAt, app.Owner) : null;

    public IReadOnlyList<AppRecord> ListApps(string? visibleTo = null)
    {
        var apps = _etcd.GetPrefix(_keys.Apps).Kvs
            .Select(kv => (Name: kv.Key.ToStringUtf8()[_keys.Apps.Length..], App: Parse<StoredApp>(kv.Value)))
            .Select(a => new AppRecord(a.Name, a.App.CreatedAt, a.App.Owner));
        if (visibleTo is not null)
        {
            var prefix = _keys.Collaborations(visibleTo);
            var shared = _etcd.GetPrefix(prefix, keysOnly: true).Kvs.Select(kv => kv.Key.ToStringUtf8()[prefix.Length..]).ToHashSet(StringComparer.Ordinal);
            apps = apps.Where(a => a.Owner == visibleTo || shared.Contains(a.Name));
        }
        return apps.OrderBy(a => a.Name, StringComparer.Ordinal).ToList();
    }

    public bool DeleteApp(string name)
    {
        var operations = new List<RequestOp> { Delete(_keys.App(name)), DeletePrefix(_keys.AppData(name)), Changed(name) };
        foreach (var user in Collaborators(name))
            operations.Add(Delete(_keys.Collaborations(user) + name));
        foreach (var kv in _etcd.GetPrefix(_keys.Domains).Kvs)
        {
            if (JsonSerializer.Deserialize<EtcdDomainStore.StoredDomain>(kv.Value.Span)!.App == name)
                operations.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = kv.Key } });
        }
        return _etcd.Write([.. operations]).Responses[0].ResponseDeleteRange.Deleted > 0;
    }

    // Renaming: etcd refuses a transaction of more than 128 operations (its --max-txn-ops), and an app's data
    // (a thousand events, hundreds of releases) is more. So its keys are first copied, in batches, under the new
    // name, which no app has (nothing reads there); then one transaction flips the app's record from the old name
    // to the new one and deletes the old data, only if nothing was written under the old name since the copy
    // was read (else it copies again). Readers see the old app whole until the flip, the new one whole after.
    // A writer that dies before the flip leaves a copy under a name no app has: TryCreateApp clears an app's
    // data when it creates the app, and the next rename to that name copies over it.
    private const int CopyBatch = 100;

    public bool RenameApp(string name, string newName)
    {
        var oldData = _keys.AppData(name);
        var newData = _keys.AppData(newName);
        for (var attempt = 0; attempt < CasAttempts; attempt++)
        {
            var app = _etcd.Get(_keys.App(name));
            if (app.Kvs.Count == 0 || _etcd.Get(_keys.App(newName)).Kvs.Count > 0)
                return false;
            var data = _etcd.GetPrefix(oldData);
            var domains = _etcd.GetPrefix(_keys.Domains);
            var addons = _etcd.GetPrefix(_keys.Addons);
            // Whatever a rename that died left under the new name goes first.
            _etcd.Write(DeletePrefix(newData));
            var copies = data.Kvs.Select(kv =>
            {
                var key = kv.Key.ToStringUtf8();
                var newKey = newData + key[oldData.Length..];
                if (key.StartsWith(_keys.Deploys(name), StringComparison.Ordinal))
                    return Put(newKey, Json(RenamedRecords.Deploy(JsonSerializer.Deserialize<DeployRecord>(kv.Value.ToStringUtf8())!, name, newName)));
                if (key.StartsWith(_keys.Releases(name), StringComparison.Ordinal))
                {
                    var release = JsonSerializer.Deserialize<StoredRelease>(kv.Value.ToStringUtf8())!;
                    return Put(newKey, Json(release with { Image = RenamedRecords.Image(release.Image, name, newName) }));
                }
                if (key.StartsWith(_keys.Volumes(name), StringComparison.Ordinal))
                    return Put(newKey, Json(RenamedRecords.Volume(JsonSerializer.Deserialize<VolumeRecord>(kv.Value.ToStringUtf8())!, newName)));
                // Copied as bytes: build outputs are gzip, not text.
                return new RequestOp { RequestPut = new PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8(newKey), Value = kv.Value } };
            }).ToList();
            foreach (var batch in CopyBatches(copies))
                _etcd.Write([.. batch]);

            var flip = new TxnRequest();
            flip.Compare.Add(Unchanged(_keys.App(name), app.Kvs[0].ModRevision));
            flip.Compare.Add(Missing(_keys.App(newName)));
            flip.Compare.Add(NothingWrittenUnderSince(oldData, data.Header.Revision));
            flip.Compare.Add(NothingWrittenUnderSince(_keys.Domains, domains.Header.Revision));
            flip.Compare.Add(NothingWrittenUnderSince(_keys.Addons, addons.Header.Revision));
            flip.Success.Add(Delete(_keys.App(name)));
            flip.Success.Add(Put(_keys.App(newName), app.Kvs[0].Value.ToStringUtf8()));
            flip.Success.Add(DeletePrefix(oldData));
            foreach (var user in data.Kvs.Select(kv => kv.Key.ToStringUtf8()).Where(k => k.StartsWith(_keys.Collaborators(name), StringComparison.Ordinal))
                .Select(k => k[_keys.Collaborators(name).Length..]))
            {
                var since = _etcd.Get(_keys.Collaborations(user) + name);
                flip.Success.Add(Delete(_keys.Collaborations(user) + name));
                flip.Success.Add(Put(_keys.Collaborations(user) + newName,
                    since.Kvs.Count > 0 ? since.Kvs[0].Value.ToStringUtf8() : _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)));
            }
            foreach (var kv in domains.Kvs)
            {
                var domain = JsonSerializer.Deserialize<EtcdDomainStore.StoredDomain>(kv.Value.Span)!;
                if (domain.App == name)
                    flip.Success.Add(Put(kv.Key.ToStringUtf8(), Json(domain with { App = newName })));
            }
            foreach (var kv in addons.Kvs)
            {
                if (RenamedRecords.Addon(Parse<AddonRecord>(kv.Value), name, newName) is { } moved)
                    flip.Success.Add(Put(kv.Key.ToStringUtf8(), Json(moved)));
            }
            flip.Success.Add(Put(_keys.Rename(name), Json(new RenameRecord(name, newName, _time.GetUtcNow()))));
            flip.Success.Add(Changed(name));
            flip.Success.Add(Changed(newName));
            if (_etcd.Transaction(flip).Succeeded)
                return true;
        }
        throw new StateStoreUnavailableException($"The state store is too busy: {name} was not renamed after {CasAttempts} attempts.");
    }

    /// <summary>
    /// Batches of at most <see cref="CopyBatch"/> puts and about half of etcd's default request limit (1.5 MiB): one
    /// stored build output alone may be close to 1 MiB.
    /// </summary>
    private static IEnumerable<List<RequestOp>> CopyBatches(IEnumerable<RequestOp> copies)
    {
        const int maxBytes = 700 * 1024;
        var batch = new List<RequestOp>();
        var bytes = 0;
        foreach (var copy in copies)
        {
            var size = copy.CalculateSize();
            if (batch.Count > 0 && (batch.Count == CopyBatch || bytes + size > maxBytes))
            {
                yield return batch;
                (batch, bytes) = ([], 0);
            }
            batch.Add(copy);
            bytes += size;
        }
        if (batch.Count > 0)
            yield return batch;
    }

    public IReadOnlyList<RenameRecord> PendingRenames() =>
        _etcd.GetPrefix(_keys.Renames).Kvs.Select(kv => Parse<RenameRecord>(kv.Value)).OrderBy(r => r.At).ToList();

    public void FinishRename(string from) => _etcd.Write(Delete(_keys.Rename(from)));

    // Releases

    public int NextReleaseVersion(string app)
    {
        var sequenceKey = _keys.ReleaseSequence(app);
        for (var attempt = 0; attempt < CasAttempts; attempt++)
        {
            var sequence = _etcd.Get(sequenceKey);
            var last = sequence.Kvs.Count == 0 ? 0 : int.Parse(sequence.Kvs[0].Value.ToStringUtf8(), CultureInfo.InvariantCulture);
            var next = Math.Max(last, HighestRecordedVersion(app)) + 1;
            var request = new TxnRequest();
            request.Compare.Add(Unchanged(sequenceKey, sequence.Kvs.Count == 0 ? 0 : sequence.Kvs[0].ModRevision));
            request.Success.Add(Put(sequenceKey, next.ToString(CultureInfo.InvariantCulture)));
            if (_etcd.Transaction(request).Succeeded)
                return next;
        }
        throw new StateStoreUnavailableException($"The state store is too busy: no release version for {app} after {CasAttempts} attempts.");
    }

    private int HighestRecordedVersion(string app)
    {
        var newest = _etcd.GetPrefix(_keys.Releases(app), limit: 1, order: RangeRequest.Types.SortOrder.Descend, keysOnly: true);
        return newest.Kvs.Count == 0 ? 0 : int.Parse(newest.Kvs[0].Key.ToStringUtf8()[_keys.Releases(app).Length..], CultureInfo.InvariantCulture);
    }

    public void ReturnReleaseVersion(string app, int version)
    {
        var request = new TxnRequest();
        request.Compare.Add(ValueIs(_keys.ReleaseSequence(app), version.ToString(CultureInfo.InvariantCulture)));
        request.Success.Add(Put(_keys.ReleaseSequence(app), (version - 1).ToString(CultureInfo.InvariantCulture)));
        _etcd.Transaction(request);
    }

    public ReleaseRecord AddRelease(ReleaseRecord release, bool replaceConfig = false)
    {
        var now = _time.GetUtcNow();
        var key = _keys.Release(release.App, release.Version);
        var value = Json(new StoredRelease(release.Version, release.Image, release.Commit, release.Buildpack,
            new(release.ProcessTypes), now, new(release.Config), new(release.Defaults), release.Description, release.RegistryImage));
        if (!Create(key, value, out _, replaceConfig ? [Put(_keys.Config(release.App), Json(release.Config)), Changed(release.App)] : [Changed(release.App)]))
            throw new InvalidOperationException($"{release.App} has a release v{release.Version} already.");
        return release with { CreatedAt = now };
    }

    public bool SetReleaseRegistryImage(string app, int version, string registryImage)
    {
        // Releases are written once, except for this one field: nothing else changes one concurrently.
        var key = _keys.Release(app, version);
        if (One<StoredRelease>(key) is not { } stored)
            return false;
        _etcd.Write(Put(key, Json(stored with { RegistryImage = registryImage })));
        return true;
    }

    public ReleaseRecord? FindRelease(string app, int version) =>
        One<StoredRelease>(_keys.Release(app, version)) is { } stored ? ToRecord(app, stored) : null;

    // Releases without a build all come before the first build (IStateStore.CurrentRelease), so the newest release tells.
    public ReleaseRecord? CurrentRelease(string app) => ListReleases(app, limit: 1).FirstOrDefault() is { HasBuild: true } newest ? newest : null;

    public IReadOnlyList<ReleaseRecord> ListReleases(string app, int limit = 100, int? before = null)
    {
        if (limit <= 0 || before <= 1)
            return [];
        var prefix = _keys.Releases(app);
        var response = _etcd.Range(new RangeRequest
        {
            Key = Bytes(prefix),
            RangeEnd = before is { } version ? Bytes(_keys.Release(app, version)) : PrefixEnd(prefix),
            Limit = limit,
            SortTarget = RangeRequest.Types.SortTarget.Key,
            SortOrder = RangeRequest.Types.SortOrder.Descend,
        });
        return response.Kvs.Select(kv => ToRecord(app, Parse<StoredRelease>(kv.Value))).ToList();
    }

    private static ReleaseRecord ToRecord(string app, StoredRelease r) =>
        new(app, r.Version, r.Image, r.Commit, r.Buildpack, r.ProcessTypes, r.CreatedAt)
        {
            Config = r.Config, Defaults = r.Defaults, Description = r.Description, RegistryImage = r.RegistryImage,
        };

    // One-off run numbers: a counter under the app's data (so DeleteApp takes it), bumped by compare-and-swap.

    public int NextRunNumber(string app)
    {
        var key = _keys.RunSequence(app);
        for (var attempt = 0; attempt < CasAttempts; attempt++)
        {
            var current = _etcd.Get(key);
            var next = (current.Kvs.Count == 0 ? 0 : int.Parse(current.Kvs[0].Value.ToStringUtf8(), CultureInfo.InvariantCulture)) + 1;
            var request = new TxnRequest();
            request.Compare.Add(Unchanged(key, current.Kvs.Count == 0 ? 0 : current.Kvs[0].ModRevision));
            request.Success.Add(Put(key, next.ToString(CultureInfo.InvariantCulture)));
            if (_etcd.Transaction(request).Succeeded)
                return next;
        }
        throw new StateStoreUnavailableException($"The state store is too busy: no run number for {app} after {CasAttempts} attempts.");
    }

    // Build outputs: one key per app and version under the app's data (so DeleteApp takes them), the compressed bytes as they are.

    public void SaveBuildOutput(string app, int version, byte[] output) =>
        _etcd.Write(new RequestOp { RequestPut = new PutRequest { Key = Bytes(_keys.BuildOutput(app, version)), Value = Google.Protobuf.ByteString.CopyFrom(output) } });

    public byte[]? BuildOutput(string app, int version)
    {
        var response = _etcd.Get(_keys.BuildOutput(app, version));
        return response.Kvs.Count == 0 ? null : response.Kvs[0].Value.ToByteArray();
    }

    public int PruneBuildOutputs(string app, IReadOnlySet<int> keep)
    {
        var prefix = _keys.BuildOutputs(app);
        var pruned = _etcd.GetPrefix(prefix, keysOnly: true).Kvs
            .Where(kv => !keep.Contains(int.Parse(kv.Key.ToStringUtf8()[prefix.Length..], CultureInfo.InvariantCulture)))
            .Select(kv => new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = kv.Key } })
            .ToArray();
        if (pruned.Length > 0)
            _etcd.Write(pruned);
        return pruned.Length;
    }

    // Deploy records: one key per app and version under the app's data (so DeleteApp takes them), the record as JSON.

    private const int DeploysKeptPerApp = 100;

    public void SaveDeploy(DeployRecord deploy)
    {
        var operations = new List<RequestOp> { Put(_keys.Deploy(deploy.App, deploy.Version), Json(deploy)) };
        if (deploy.Version > DeploysKeptPerApp)
        {
            operations.Add(new RequestOp
            {
                RequestDeleteRange = new DeleteRangeRequest
                {
                    Key = Bytes(_keys.Deploys(deploy.App)),
                    RangeEnd = Bytes(_keys.Deploy(deploy.App, deploy.Version - DeploysKeptPerApp + 1)),
                },
            });
        }
        _etcd.Write([.. operations]);
    }

    public DeployRecord? FindDeploy(string app, int version) => One<DeployRecord>(_keys.Deploy(app, version));

    public IReadOnlyList<DeployRecord> Deploys(string app, int limit = 100) =>
        limit <= 0 ? [] : _etcd.GetPrefix(_keys.Deploys(app), limit: limit, order: RangeRequest.Types.SortOrder.Descend).Kvs
            .Select(kv => Parse<DeployRecord>(kv.Value)).ToList();

    // Read at a controller's start only: a scan of every app's records is cheap enough there.
    public IReadOnlyList<DeployRecord> UnfinishedDeploys() =>
        ListApps().SelectMany(app => _etcd.GetPrefix(_keys.Deploys(app.Name)).Kvs.Select(kv => Parse<DeployRecord>(kv.Value)))
            .Where(d => !d.Finished).ToList();

    // Buildpacks, formation, health checks, settings

    public IReadOnlyList<string> Buildpacks(string app) => One<List<string>>(_keys.Buildpacks(app)) ?? [];

    public void SetBuildpacks(string app, IReadOnlyList<string> buildpacks) => _etcd.Write(Put(_keys.Buildpacks(app), Json(buildpacks)));

    public AppRouteOptions RouteOptions(string app)
    {
        var response = _etcd.Get(_keys.RouteOptions(app));
        return response.Kvs.Count > 0 && RoutingJson.TryReadOptions(response.Kvs[0].Value.ToStringUtf8(), out var options) ? options : AppRouteOptions.None;
    }

    public void SetRouteOptions(string app, AppRouteOptions options) => _etcd.Write(Put(_keys.RouteOptions(app), RoutingJson.Write(options)), Changed(app));

    public IReadOnlyDictionary<string, RegistryCredential> RegistryCredentials(string app) =>
        One<Dictionary<string, RegistryCredential>>(_keys.RegistryCredentials(app)) ?? new Dictionary<string, RegistryCredential>();

    public void SetRegistryCredentials(string app, IReadOnlyDictionary<string, RegistryCredential> credentials) =>
        _etcd.Write(Put(_keys.RegistryCredentials(app), Json(credentials)));

    public IReadOnlyDictionary<string, FormationEntry> Formation(string app)
    {
        return ToFormation(app, _etcd.GetPrefix(_keys.FormationOf(app)).Kvs);
    }

    private Dictionary<string, FormationEntry> ToFormation(string app, IEnumerable<Mvccpb.KeyValue> kvs)
    {
        var prefix = _keys.FormationOf(app);
        return kvs.ToDictionary(
            kv => kv.Key.ToStringUtf8()[prefix.Length..],
            kv =>
            {
                var stored = Parse<StoredFormation>(kv.Value);
                return new FormationEntry(kv.Key.ToStringUtf8()[prefix.Length..], stored.Quantity, stored.MemoryMb);
            },
            StringComparer.Ordinal);
    }

    public void SetFormation(string app, IEnumerable<FormationEntry> entries)
    {
        var list = entries.ToList();
        for (var attempt = 0; attempt < CasAttempts; attempt++)
        {
            // An entry without memory keeps the memory set before: read, merge, and write only if nothing changed meanwhile.
            var request = new TxnRequest();
            foreach (var entry in list)
            {
                var key = _keys.FormationOf(app) + entry.Process;
                var current = _etcd.Get(key);
                var memory = entry.MemoryMb ?? (current.Kvs.Count == 0 ? null : Parse<StoredFormation>(current.Kvs[0].Value).MemoryMb);
                request.Compare.Add(Unchanged(key, current.Kvs.Count == 0 ? 0 : current.Kvs[0].ModRevision));
                request.Success.Add(Put(key, Json(new StoredFormation(entry.Quantity, memory))));
            }
            request.Success.Add(Changed(app));
            if (_etcd.Transaction(request).Succeeded)
                return;
        }
        throw new StateStoreUnavailableException($"The state store is too busy: the formation of {app} was not saved after {CasAttempts} attempts.");
    }

    public HealthCheckSpec? HealthCheck(string app, string process) => One<HealthCheckSpec>(_keys.HealthCheck(app, process));

    public void SetHealthCheck(string app, string process, HealthCheckSpec spec) => _etcd.Write(Put(_keys.HealthCheck(app, process), Json(spec)), Changed(app));

    public IReadOnlyList<AddonRecord> Addons(string? app = null) =>
        _etcd.GetPrefix(_keys.Addons).Kvs.Select(kv => Parse<AddonRecord>(kv.Value))
            .Where(a => app is null || a.App == app)
            .OrderBy(a => a.CreatedAt).ThenBy(a => a.Id, StringComparer.Ordinal)
            .ToList();

    public void SaveAddon(AddonRecord addon) => _etcd.Write(Put(_keys.Addon(addon.Id), Json(addon)));

    // Volumes: one key per app and volume name under the app's data (so DeleteApp takes them).

    public IReadOnlyList<VolumeRecord> Volumes(string app) =>
        _etcd.GetPrefix(_keys.Volumes(app)).Kvs.Select(kv => Parse<VolumeRecord>(kv.Value))
            .OrderBy(v => v.Process, StringComparer.Ordinal).ThenBy(v => v.Path, StringComparer.Ordinal).ToList();

    public void SaveVolume(VolumeRecord volume) => _etcd.Write(Put(_keys.Volume(volume.App, volume.Volume), Json(volume)));

    public bool DeleteVolume(string app, string volume) =>
        _etcd.Write(Delete(_keys.Volume(app, volume))).Responses[0].ResponseDeleteRange.Deleted > 0;

    public bool DeleteAddon(string id) => _etcd.Write(Delete(_keys.Addon(id))).Responses[0].ResponseDeleteRange.Deleted > 0;

    public string GetOrCreateSetting(string key, Func<string> create)
    {
        var request = new TxnRequest();
        var value = create();
        request.Compare.Add(Missing(_keys.Setting(key)));
        request.Success.Add(Put(_keys.Setting(key), value));
        request.Failure.Add(Read(_keys.Setting(key)));
        var response = _etcd.Transaction(request);
        return response.Succeeded ? value : response.Responses[0].ResponseRange.Kvs[0].Value.ToStringUtf8();
    }

    // Events

    public event Action<EventRecord>? EventAdded;

    public void AddEvent(string app, string actor, string kind, string message)
    {
        var at = _time.GetUtcNow();
        var id = $"{at.UtcTicks:D19}-{_eventNonce}-{Interlocked.Increment(ref _eventCounter):D10}";
        _etcd.Write(Put(_keys.Events(app) + id, Json(new StoredEvent(at, actor, kind, message))));
        TrimEvents(app);
        EventAdded?.Invoke(new EventRecord(app, at, actor, kind, message));
    }

    /// <summary>Keeps the newest events (by create revision), <see cref="IStateStore.EventsKeptPerApp"/> unless told otherwise.</summary>
    private void TrimEvents(string app)
    {
        var prefix = _keys.Events(app);
        var excess = _etcd.GetPrefix(prefix, countOnly: true).Count - _eventsKept;
        if (excess <= 0)
            return;
        var oldest = _etcd.GetPrefix(prefix, limit: excess, sortBy: RangeRequest.Types.SortTarget.Create, order: RangeRequest.Types.SortOrder.Ascend, keysOnly: true);
        _etcd.Write([.. oldest.Kvs.Select(kv => new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = kv.Key } })]);
    }

    public IReadOnlyList<EventRecord> Events(string app, int limit)
    {
        if (limit <= 0)
            return [];
        // A rename copies events in batches, each batch one revision (RenameApp): within a revision the key (the
        // event's time) orders them, so a batch more is read to have the whole of one at the limit's edge.
        var newest = _etcd.GetPrefix(_keys.Events(app), limit: limit + CopyBatch, sortBy: RangeRequest.Types.SortTarget.Create, order: RangeRequest.Types.SortOrder.Descend);
        return newest.Kvs.OrderBy(kv => kv.CreateRevision).ThenBy(kv => kv.Key.ToStringUtf8(), StringComparer.Ordinal).TakeLast(limit)
            .Select(kv => Parse<StoredEvent>(kv.Value))
            .Select(e => new EventRecord(app, e.At, e.Actor, e.Kind, e.Message))
            .ToList();
    }

    public void Ping() => _etcd.Ping();
}
