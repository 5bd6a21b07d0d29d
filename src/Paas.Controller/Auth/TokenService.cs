using System.Security.Cryptography;
using System.Text;
using Paas.Controller.State;

namespace Paas.Controller.Auth;

/// <summary>Issues and checks API tokens. Only a SHA-256 of each token is stored; the token itself is shown once.</summary>
public sealed class TokenService(IStateStore database)
{
    public const string AdminRole = "admin";
    public const string UserRole = "user";
    public const string AdminUser = "admin";
    private const string Prefix = "paas_";

    public static string Hash(string token) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>A new token for an existing user; returns the token (shown once) and its id (for revoking).</summary>
    public (string Token, string Id) Issue(string user, string description)
    {
        var token = Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        database.AddToken(id, Hash(token), user, description);
        return (token, id);
    }

    public TokenRecord? Verify(string? token) =>
        string.IsNullOrEmpty(token) || token.Length > 200 ? null : database.FindTokenByHash(Hash(token));

    /// <summary>
    /// The first start creates the `admin` operator and writes a token for it to the data directory (mode
    /// 0600) for the local CLI; later starts keep it, and re-register it if the database was reset.
    /// </summary>
    public void EnsureAdminToken(string path)
    {
        database.TryCreateUser(AdminUser, AdminRole);
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path).Trim();
            if (Verify(existing) is null)
                database.AddToken(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)), Hash(existing), AdminUser, "platform admin token");
            return;
        }
        var (token, _) = Issue(AdminUser, "platform admin token");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
        using var writer = new StreamWriter(path, Encoding.ASCII, options);
        writer.WriteLine(token);
    }
}
