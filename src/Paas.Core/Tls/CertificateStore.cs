using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Paas.Core.Tls;

/// <summary>
/// Server certificates for a TLS port (the router's, the controller's API and git), chosen per connection by SNI. Loaded from a directory of PEM
/// pairs (NAME.crt with NAME.key), matched by the DNS names inside each certificate, exact name first,
/// then wildcard (*.example.com covers one label). The directory is re-read when its contents change,
/// so a renewed or added certificate is served without a restart.
/// </summary>
public sealed class CertificateStore
{
    private static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(10);

    private readonly string _directory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly object _reloadLock = new();
    private Snapshot _snapshot = Snapshot.Empty;
    private long _nextCheck;

    public CertificateStore(string directory, ILogger logger, TimeProvider? time = null)
    {
        _directory = directory;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        Reload();
    }

    public bool IsEmpty => _snapshot.Default is null;

    public int Count => _snapshot.ByName.Count + _snapshot.ByWildcard.Count;

    /// <summary>The certificate for an SNI name; the first loaded one when nothing matches or no SNI was sent.</summary>
    public X509Certificate2? Select(string? serverName)
    {
        // Checked on the handshake path, at most every RecheckInterval: a directory listing per connection would cost more than TLS.
        var now = _time.GetTimestamp();
        if (now >= Volatile.Read(ref _nextCheck))
        {
            Volatile.Write(ref _nextCheck, now + (long)(RecheckInterval.TotalSeconds * _time.TimestampFrequency));
            Reload();
        }

        var snapshot = _snapshot;
        if (!string.IsNullOrEmpty(serverName))
        {
            var name = serverName.TrimEnd('.');
            if (snapshot.ByName.TryGetValue(name, out var exact))
            {
                return exact;
            }

            var dot = name.IndexOf('.');
            if (dot > 0 && snapshot.ByWildcard.TryGetValue(name[(dot + 1)..], out var wildcard))
            {
                return wildcard;
            }
        }

        return snapshot.Default;
    }

    private void Reload()
    {
        lock (_reloadLock)
        {
            string stamp;
            string[] files;
            try
            {
                files = Directory.Exists(_directory) ? Directory.GetFiles(_directory, "*.crt").Order(StringComparer.Ordinal).ToArray() : [];
                stamp = string.Join('|', files.Select(f => f + "@" + File.GetLastWriteTimeUtc(f).Ticks + "@" + File.GetLastWriteTimeUtc(Path.ChangeExtension(f, ".key")).Ticks));
            }
            catch (IOException ex)
            {
                _logger.LogWarning("Cannot read certificates from {Directory}: {Error}", _directory, ex.Message);
                return;
            }

            if (stamp == _snapshot.Stamp)
            {
                return;
            }

            var byName = new Dictionary<string, X509Certificate2>(StringComparer.OrdinalIgnoreCase);
            var byWildcard = new Dictionary<string, X509Certificate2>(StringComparer.OrdinalIgnoreCase);
            X509Certificate2? first = null;
            foreach (var crt in files)
            {
                var key = Path.ChangeExtension(crt, ".key");
                try
                {
                    var certificate = X509Certificate2.CreateFromPemFile(crt, File.Exists(key) ? key : null);
                    if (!certificate.HasPrivateKey)
                    {
                        _logger.LogWarning("Skipping {Certificate}: no private key next to it ({Key})", crt, key);
                        continue;
                    }

                    first ??= certificate;
                    foreach (var name in DnsNames(certificate))
                    {
                        if (name.StartsWith("*.", StringComparison.Ordinal))
                        {
                            byWildcard.TryAdd(name[2..], certificate);
                        }
                        else
                        {
                            byName.TryAdd(name, certificate);
                        }
                    }
                }
                catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or ArgumentException)
                {
                    _logger.LogWarning("Skipping certificate {Certificate}: {Error}", crt, ex.Message);
                }
            }

            _snapshot = new Snapshot(stamp, byName, byWildcard, first);
            _logger.LogInformation("Loaded {Count} TLS certificate(s) from {Directory}", byName.Count + byWildcard.Count, _directory);
        }
    }

    /// <summary>The DNS names a certificate covers: its subjectAltName entries, else its common name.</summary>
    public static IReadOnlyList<string> DnsNames(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                names.AddRange(san.EnumerateDnsNames());
            }
        }

        if (names.Count == 0 && certificate.GetNameInfo(X509NameType.DnsName, false) is { Length: > 0 } cn)
        {
            names.Add(cn);
        }

        return names;
    }

    private sealed record Snapshot(string Stamp, Dictionary<string, X509Certificate2> ByName, Dictionary<string, X509Certificate2> ByWildcard, X509Certificate2? Default)
    {
        public static Snapshot Empty { get; } = new("", new(), new(), null);
    }
}
