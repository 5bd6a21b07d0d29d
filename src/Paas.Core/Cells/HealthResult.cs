namespace Paas.Core.Cells;

/// <summary>The outcome of waiting for an instance to become healthy; <see cref="Reason"/> is one sentence when not.</summary>
public sealed record HealthResult(bool Healthy, string? Reason)
{
    public static readonly HealthResult Ok = new(true, null);
    public static HealthResult Failed(string reason) => new(false, reason);
}
