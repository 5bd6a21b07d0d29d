namespace Paas.Controller.State;

public sealed record TokenRecord(string Id, string User, string Role, DateTimeOffset CreatedAt);
