namespace Paas.Router.Observability;

/// <summary>The request counter for one app and status code, as an app's pool caches it.</summary>
public sealed record StatusCounter(int Status, Counter Counter);
