namespace Paas.Core.Health;

/// <summary>What /healthz answers: 200 "ok", or 503 with one line naming each dependency that failed and why.</summary>
public sealed record HealthReport(bool Healthy, string Line)
{
    public int StatusCode => Healthy ? 200 : 503;
}
