using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Paas.Controller.Runs;

/// <summary>
/// The secrets in `heroku run`'s attach URLs (rendezvous://HOST:PORT/SECRET): random, single-use and short-lived.
/// Only a SHA-256 of each is kept, so a memory dump or a log of this table gives no one a session; a presented
/// secret is hashed and compared in constant time. Whoever presents it first gets <typeparamref name="T"/> once.
/// </summary>
public sealed class RendezvousSecrets<T>(TimeProvider time, RandomNumberGenerator random) where T : class
{
    /// <summary>The CLI connects right after the API answers; a minute covers a slow terminal, not a secret copied later.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);
    private const int SecretBytes = 32;

    private readonly ConcurrentDictionary<string, Entry> _pending = new(StringComparer.Ordinal);

    private sealed record Entry(byte[] Hash, T Value, DateTimeOffset Expires);

    public int Pending => _pending.Count;

    /// <summary>A new secret (URL-safe) for <paramref name="value"/>; it is good for one <see cref="Redeem"/> within <see cref="Lifetime"/>.</summary>
    public string Issue(T value)
    {
        var now = time.GetUtcNow();
        // Unredeemed secrets go when the next one is issued: the table stays as small as the runs being attached.
        foreach (var (key, entry) in _pending)
            if (entry.Expires <= now)
                _pending.TryRemove(key, out _);
        var bytes = new byte[SecretBytes];
        random.GetBytes(bytes);
        var secret = Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var hash = Hash(secret);
        _pending[Convert.ToHexString(hash)] = new Entry(hash, value, now + Lifetime);
        return secret;
    }

    /// <summary>What the secret was issued for, once; null when it is unknown, already used or expired.</summary>
    public T? Redeem(string presented)
    {
        var hash = Hash(presented);
        // The table is keyed by the hash, so the lookup's timing says nothing about the secret; the final comparison is constant-time all the same.
        if (!_pending.TryRemove(Convert.ToHexString(hash), out var entry))
            return null;
        if (!CryptographicOperations.FixedTimeEquals(hash, entry.Hash))
            return null;
        return entry.Expires > time.GetUtcNow() ? entry.Value : null;
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
