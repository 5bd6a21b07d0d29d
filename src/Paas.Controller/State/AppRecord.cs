namespace Paas.Controller.State;

public sealed record AppRecord(string Name, DateTimeOffset CreatedAt, string Owner);
