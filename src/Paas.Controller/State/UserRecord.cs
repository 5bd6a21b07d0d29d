namespace Paas.Controller.State;

/// <summary>A person or robot that holds tokens; operators have the admin role.</summary>
public sealed record UserRecord(string Name, string Role, DateTimeOffset CreatedAt);
