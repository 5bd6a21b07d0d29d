using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Paas.Core.Tls;
using StackExchange.Redis;

namespace Paas.Router.Tls;

/// <summary>
/// Custom domains' certificates as the controller publishes them in Redis (<see cref="TlsKeys.Certificates"/>):
/// read at start, again on every change notification and every resync period, and swapped in as one snapshot,
/// so the handshake path reads memory only. A Redis outage keeps the last snapshot. Also answers HTTP-01
/// challenges (<see cref="ChallengeAsync"/>).
/// </summary>
public sealed class PublishedCertificates : BackgroundService
{
    private readonly RouterSettings _settings;
    private readonly ILogger<PublishedCertificates> _logger;
    private readonly TlsKeys _keys;
    private readonly KeySealer _sealer;
    private volatile Snapshot _snapshot = Snapshot.Empty;
    private volatile ConnectionMultiplexer? _redis;
    private readonly SemaphoreSlim _reload = new(0);

    private readonly Observability.RouterMetrics _metrics;

    public PublishedCertificates(RouterSettings settings, Observability.RouterMetrics metrics, ILogger<PublishedCertificates> logger)
    {
        _metrics = metrics;
        _settings = settings;
        _logger = logger;
        _keys = new TlsKeys(settings.RedisPrefix);
        _sealer = KeySealer.ForRedis(settings.Redis);
    }

    public int Count => _snapshot.ByName.Count + _snapshot.ByWildcard.Count;

    /// <summary>The published certificate for an SNI name (exact, then a wildcard one label up), or null.</summary>
    public SslStreamCertificateContext? Select(string? serverName)
    {
        if (string.IsNullOrEmpty(serverName))
            return null;
        var snapshot = _snapshot;
        var name = serverName.TrimEnd('.');
        if (snapshot.ByName.TryGetValue(name, out var exact))
            return exact;
        var dot = name.IndexOf('.');
        return dot > 0 && snapshot.ByWildcard.TryGetValue(name[(dot + 1)..], out var wildcard) ? wildcard : null;
    }

    /// <summary>
    /// The key authorization for an HTTP-01 token, or null when the platform has no such challenge (the request then
    /// goes to the app, which may answer its own). Read from Redis on the request, not from a snapshot: the controller
    /// asks the ACME server to validate right after writing it, and a challenge request is rare.
    /// </summary>
    public async Task<string?> ChallengeAsync(string token)
    {
        if (_redis is not { IsConnected: true } redis || token.Length is 0 or > 256)
            return null;
        try
        {
            var value = await redis.GetDatabase().StringGetAsync(_keys.Challenge(token)).WaitAsync(TimeSpan.FromSeconds(2));
            if (value.IsNullOrEmpty)
                return null;
            _metrics.AcmeChallengesAnswered.Increment();
            return value.ToString();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _logger.LogWarning("Cannot read the ACME challenge from Redis: {Error}", ex.Message);
            return null;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var redis = await Paas.Core.Configuration.RedisConnection.ConnectAsync(_settings.Redis, "paas-router-tls", null, stop);
                _redis = redis;
                var queue = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(_keys.Changes));
                queue.OnMessage(_ => { _reload.Release(); });
                while (!stop.IsCancellationRequested)
                {
                    await LoadAsync(redis.GetDatabase());
                    await _reload.WaitAsync(_settings.ResyncInterval, stop);
                    // Several changes in a burst: one reload.
                    while (_reload.CurrentCount > 0)
                        await _reload.WaitAsync(stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.LogWarning("Published certificates not reloaded (keeping {Count}): {Error}", Count, ex.Message);
                _redis = null;
                await Task.Delay(TimeSpan.FromSeconds(1), stop).ContinueWith(_ => { });
            }
        }
    }

    private async Task LoadAsync(IDatabase db)
    {
        var entries = await db.HashGetAllAsync(_keys.Certificates);
        var stamp = string.Join('|', entries.Select(e => e.Name + "@" + ((string?)e.Value)?.GetHashCode()).Order(StringComparer.Ordinal));
        if (stamp == _snapshot.Stamp)
            return;
        var byName = new Dictionary<string, SslStreamCertificateContext>(StringComparer.OrdinalIgnoreCase);
        var byWildcard = new Dictionary<string, SslStreamCertificateContext>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in entries)
        {
            var host = entry.Name.ToString();
            try
            {
                var published = JsonSerializer.Deserialize<PublishedCertificate>(entry.Value.ToString())!;
                var certificate = published.LoadContext(_sealer);
                if (host.StartsWith("*.", StringComparison.Ordinal))
                    byWildcard[host[2..]] = certificate;
                else
                    byName[host] = certificate;
            }
            catch (Exception ex)
            {
                // The reason only: the key itself is never logged.
                _logger.LogWarning("Skipping the published certificate for {Host}: {Error}", host, ex.Message);
            }
        }
        _snapshot = new Snapshot(stamp, byName, byWildcard);
        _metrics.PublishedCertificates = byName.Count + byWildcard.Count;
        _logger.LogInformation("Loaded {Count} published certificate(s)", byName.Count + byWildcard.Count);
    }

    private sealed record Snapshot(string Stamp, Dictionary<string, SslStreamCertificateContext> ByName, Dictionary<string, SslStreamCertificateContext> ByWildcard)
    {
        public static Snapshot Empty { get; } = new("", new(), new());
    }
}
