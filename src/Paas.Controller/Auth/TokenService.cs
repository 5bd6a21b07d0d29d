using System.Security.Cryptography;
using System.Text;
using Paas.Controller.State;

namespace Paas.Controller.Auth;

/// <summary>Issues and checks API tokens. Only a SHA-256 of each token is stored; the token itself is shown once.</summary>
public sealed class TokenService(PlatformDatabase database)
{
    public const string AdminRole = "admin";
    private const string Prefix = "paas_";

    public static string Hash(string token) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public string Issue(string user, string role)
    {
        var token = Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        database.AddToken(Guid.NewGuid().ToString("N"), Hash(token), user, role);
        return token;
    }

    public TokenRecord? Verify(string? token) =>
        string.IsNullOrEmpty(token) || token.Length > 200 ? null : database.FindTokenByHash(Hash(token));

    /// <summary>
    /// The first start writes an admin token to the data directory (mode 0600) for the local CLI; later
    /// starts keep it, and re-register it if the database was reset.
    /// </summary>
    public void EnsureAdminToken(string path)
    {
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path).Trim();
            if (Verify(existing) is null)
                database.AddToken(Guid.NewGuid().ToString("N"), Hash(existing), "admin", AdminRole);
            return;
        }
        var token = Issue("admin", AdminRole);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
        using var writer = new StreamWriter(path, Encoding.ASCII, options);
        writer.WriteLine(token);
    }
}
