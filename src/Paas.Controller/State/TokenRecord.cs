namespace Paas.Controller.State;

/// <summary>An API token as stored: its id and owner, never the token itself (only its hash is kept).</summary>
public sealed record TokenRecord(string Id, string User, string Role, DateTimeOffset CreatedAt)
{
    public string Description { get; init; } = "";
}
