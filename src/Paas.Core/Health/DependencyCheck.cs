namespace Paas.Core.Health;

/// <summary>
/// Something a process cannot do its work without (Redis, the Docker engine, its database), and the
/// cheapest question that proves it answers: a PING, an engine ping, a trivial query. A probe that
/// throws, or does not finish in time, is a failure.
/// </summary>
public sealed record DependencyCheck(string Name, Func<CancellationToken, Task> ProbeAsync);
