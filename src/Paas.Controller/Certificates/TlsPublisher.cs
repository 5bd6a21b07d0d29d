using System.Text.Json;
using Paas.Core.Tls;
using StackExchange.Redis;

namespace Paas.Controller.Certificates;

/// <summary>
/// The one writer of the TLS keys in Redis (<see cref="TlsKeys"/>): certificates the routers serve, issuance status,
/// the apps with automatic certificates, HTTP-01 challenges and the ACME account. Private keys are sealed
/// (<see cref="KeySealer"/>) before they leave this process.
/// </summary>
public sealed class TlsPublisher(IConnectionMultiplexer redis, TlsKeys keys, KeySealer sealer)
{
    private static readonly TimeSpan ChallengeLifetime = TimeSpan.FromMinutes(10);

    private IDatabase Db => redis.GetDatabase();

    public KeySealer Sealer => sealer;

    public async Task PublishAsync(string hostname, string app, string chainPem, string keyPem, string source, DateTimeOffset notAfter)
    {
        var published = new PublishedCertificate(app, chainPem, sealer.Seal(keyPem), source, notAfter);
        await Db.HashSetAsync(keys.Certificates, hostname, JsonSerializer.Serialize(published));
        await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(keys.Changes), hostname);
    }

    public async Task<PublishedCertificate?> FindAsync(string hostname)
    {
        var value = await Db.HashGetAsync(keys.Certificates, hostname);
        return value.IsNullOrEmpty ? null : JsonSerializer.Deserialize<PublishedCertificate>(value.ToString());
    }

    /// <summary>The hostname's certificate now belongs to <paramref name="app"/> (`apps:rename`); nothing when it has none.</summary>
    public async Task MoveAsync(string hostname, string app)
    {
        if (await FindAsync(hostname) is not { } published || published.App == app)
            return;
        await Db.HashSetAsync(keys.Certificates, hostname, JsonSerializer.Serialize(published with { App = app }));
        await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(keys.Changes), hostname);
    }

    /// <summary>Stops serving the hostname's certificate (its domain was removed) and forgets its status.</summary>
    public async Task RemoveAsync(string hostname)
    {
        await Db.HashDeleteAsync(keys.Certificates, hostname);
        await Db.HashDeleteAsync(keys.Status, hostname);
        await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(keys.Changes), hostname);
    }

    public async Task<CertificateStatus?> StatusAsync(string hostname)
    {
        var value = await Db.HashGetAsync(keys.Status, hostname);
        return value.IsNullOrEmpty ? null : JsonSerializer.Deserialize<CertificateStatus>(value.ToString());
    }

    public Task SetStatusAsync(string hostname, CertificateStatus status) =>
        Db.HashSetAsync(keys.Status, hostname, JsonSerializer.Serialize(status));

    public async Task<bool> IsAutoAsync(string app) => await Db.SetContainsAsync(keys.AutoApps, app);

    public async Task<IReadOnlyList<string>> AutoAppsAsync() =>
        (await Db.SetMembersAsync(keys.AutoApps)).Select(v => v.ToString()).Order(StringComparer.Ordinal).ToList();

    public Task SetAutoAsync(string app, bool on) => on ? Db.SetAddAsync(keys.AutoApps, app) : Db.SetRemoveAsync(keys.AutoApps, app);

    public Task PutChallengeAsync(string token, string keyAuthorization) =>
        Db.StringSetAsync(keys.Challenge(token), keyAuthorization, ChallengeLifetime);

    public Task RemoveChallengeAsync(string token) => Db.KeyDeleteAsync(keys.Challenge(token));

    public sealed record StoredAccount(string SealedKey, string Url);

    public async Task<StoredAccount?> AccountAsync(string directory)
    {
        var value = await Db.StringGetAsync(keys.Account(directory));
        return value.IsNullOrEmpty ? null : JsonSerializer.Deserialize<StoredAccount>(value.ToString());
    }

    public Task SaveAccountAsync(string directory, StoredAccount account) =>
        Db.StringSetAsync(keys.Account(directory), JsonSerializer.Serialize(account));
}
