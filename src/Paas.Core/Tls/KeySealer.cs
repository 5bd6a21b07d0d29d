using System.Security.Cryptography;
using System.Text;

namespace Paas.Core.Tls;

/// <summary>
/// Seals private keys (AES-256-GCM) before they are written to Redis. The key is derived (HKDF) from a secret
/// every party that reads certificates already holds: the Redis password. So what Redis persists (its RDB/AOF
/// files, a backup, a replica's copy) holds no usable private key by itself; whoever holds the password could
/// read the sealed keys anyway, so it protects data at rest, not from a client of Redis. Never logged.
/// </summary>
public sealed class KeySealer
{
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private readonly byte[] _key;

    public KeySealer(string secret)
    {
        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32,
            salt: Encoding.ASCII.GetBytes("paas-tls-key-sealer"), info: Encoding.ASCII.GetBytes("private keys v1"));
    }

    /// <summary>The sealer for the platform's Redis configuration string (its password, empty when Redis has none).</summary>
    public static KeySealer ForRedis(string redisConfiguration) =>
        new(StackExchange.Redis.ConfigurationOptions.Parse(redisConfiguration).Password ?? "");

    public string Seal(string plaintext)
    {
        var nonce = RandomNumberGenerator.GetBytes(NonceBytes);
        var data = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceBytes + data.Length + TagBytes];
        nonce.CopyTo(output, 0);
        using var aes = new AesGcm(_key, TagBytes);
        aes.Encrypt(nonce, data, output.AsSpan(NonceBytes, data.Length), output.AsSpan(NonceBytes + data.Length));
        return "v1:" + Convert.ToBase64String(output);
    }

    public string Open(string sealedText)
    {
        if (!sealedText.StartsWith("v1:", StringComparison.Ordinal))
            throw new CryptographicException("The sealed key has an unknown format.");
        var input = Convert.FromBase64String(sealedText[3..]);
        if (input.Length < NonceBytes + TagBytes)
            throw new CryptographicException("The sealed key is too short.");
        var length = input.Length - NonceBytes - TagBytes;
        var plain = new byte[length];
        using var aes = new AesGcm(_key, TagBytes);
        aes.Decrypt(input.AsSpan(0, NonceBytes), input.AsSpan(NonceBytes, length), input.AsSpan(NonceBytes + length), plain);
        return Encoding.UTF8.GetString(plain);
    }
}
