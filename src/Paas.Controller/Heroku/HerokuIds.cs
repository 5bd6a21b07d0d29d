using System.Security.Cryptography;
using System.Text;

namespace Paas.Controller.Heroku;

/// <summary>
/// Heroku identifies every resource by a UUID; Paas by names and numbers. A name-based (version 5) UUID
/// of "kind:name" gives each Paas resource a stable Heroku id without storing one.
/// </summary>
public static class HerokuIds
{
    // A fixed namespace so the same app has the same id on every platform and after every restart.
    private static readonly byte[] Namespace = Guid.Parse("6f1c1d4e-0a53-4a8e-9d87-9a3c52d0b1a1").ToByteArray(bigEndian: true);

    public static string App(string app) => For("app", app);

    public static string Release(string app, int version) => For("release", $"{app}/v{version}");

    public static string Formation(string app, string process) => For("formation", $"{app}/{process}");

    public static string Dyno(string instanceId) => For("dyno", instanceId);

    public static string Domain(string hostname) => For("domain", hostname);

    public static string Account(string user) => For("account", user);

    /// <summary>An SNI endpoint is one certificate: named by a hash of its chain.</summary>
    public static string SniEndpoint(string chainHash) => For("sni-endpoint", chainHash);

    public static string Addon(string id) => For("addon", id);

    public static string AddonService(string name) => For("addon-service", name);

    private static string For(string kind, string name)
    {
        var hash = SHA1.HashData([.. Namespace, .. Encoding.UTF8.GetBytes($"{kind}:{name}")]);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true).ToString();
    }
}
