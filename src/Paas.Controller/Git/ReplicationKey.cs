using System.Security.Cryptography;
using System.Text;

namespace Paas.Controller.Git;

/// <summary>
/// What controllers present to each other's replication endpoint: derived from the cell secret, which every
/// controller of a platform already shares (they all talk to the same cells), so there is no second secret to
/// distribute, and the cell secret itself never travels to another controller.
/// </summary>
public sealed class ReplicationKey(string cellSecret)
{
    public string Value { get; } = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(cellSecret), "paas controller replication"u8));

    public bool Matches(string? authorization) =>
        authorization is { } header && header.StartsWith("Bearer ", StringComparison.Ordinal)
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(header["Bearer ".Length..]), Encoding.ASCII.GetBytes(Value));
}
