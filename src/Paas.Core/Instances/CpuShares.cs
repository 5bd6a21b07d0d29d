namespace Paas.Core.Instances;

/// <summary>
/// An instance's CPU entitlement, derived from its memory as Cloud Foundry does: 1024 cgroup CPU shares per
/// 1024 MB, so a 1-GB instance weighs as much as a default container and a 128-MB one an eighth of that.
/// Shares only bite under contention: an idle cell lets anyone burst, a busy one divides the cores by weight,
/// so a busy-looping instance cannot starve its neighbours. One rule for the cell (which sets it), placement
/// (which counts it) and `paas ps` (which shows it).
/// </summary>
public static class CpuShares
{
    /// <summary>Shares one core is worth; a cell offers this many per core.</summary>
    public const long PerCore = 1024;

    /// <summary>The engine's smallest accepted weight.</summary>
    public const long Minimum = 2;

    public static long ForMemory(long memoryBytes) => Math.Max(Minimum, memoryBytes / (1024 * 1024) * PerCore / 1024);
}
