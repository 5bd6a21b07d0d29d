using System.Security.Cryptography;
using System.Text;

namespace Paas.Controller.Deploys;

/// <summary>A random secret made at start and handed only to git hooks, so only they can trigger deploys.</summary>
public sealed class HookSecret
{
    public string Value { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public bool Matches(string candidate) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(candidate), Encoding.ASCII.GetBytes(Value));
}
