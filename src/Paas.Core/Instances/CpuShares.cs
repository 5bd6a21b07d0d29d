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

    /// <summary>
    /// The weight an instance starts with until its first health check passes: its own, or a default
    /// process's (<see cref="PerCore"/>) if that is more. Each instance is its own top-level cgroup on a
    /// cgroupfs cell (PAAS_CELL_CGROUP_PARENT=/), weighed against every host process at 1024 apiece: a 64-MB
    /// instance's 64 shares made a Python start take 3.4 s instead of 0.75 s at load 32 on 2 cores, long
    /// enough that an out-of-memory replacement showed running in `paas ps` for seconds before it was routed.
    /// The same start-up boost as the cap's (Kubernetes' startup CPU boost raises requests, so shares).
    /// </summary>
    public static long StartupShares(long memoryBytes) => Math.Max(PerCore, ForMemory(memoryBytes));

    /// <summary>
    /// The fewest cores an instance may use however small it is: a 128-MB Python app needs about 0.1 s of
    /// CPU to start and a few milliseconds per request, which a smaller cap would stretch many times over.
    /// </summary>
    public const double MinimumCores = 0.25;

    /// <summary>
    /// An instance's hard CPU cap in cores (a CFS quota), from its memory as its shares are: one core per
    /// 1024 MB, at least <see cref="MinimumCores"/>, at most the cell's cores. Shares alone only weigh
    /// containers against each other, and a busy loop beside a neighbour still took every idle cycle the
    /// platform's own processes (the router) needed: measured through the router, the neighbour's latency
    /// rose 3-8x. A cap leaves those cycles free, as a Kubernetes limit or a Heroku dyno size does.
    /// </summary>
    public static double CoresForMemory(long memoryBytes, int cellCores) =>
        Math.Round(Math.Min(cellCores, Math.Max(MinimumCores, memoryBytes / (1024.0 * 1024 * 1024))), 2);
}
