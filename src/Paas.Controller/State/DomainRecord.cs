namespace Paas.Controller.State;

/// <summary>A custom hostname the router serves an app on, besides the app's own host.</summary>
public sealed record DomainRecord(string Hostname, string App, DateTimeOffset CreatedAt);
