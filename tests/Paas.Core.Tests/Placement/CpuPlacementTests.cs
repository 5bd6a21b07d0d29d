using Paas.Core.Instances;
using Paas.Placement;

namespace Paas.Core.Tests.Placement;

/// <summary>Placement counts CPU shares (derived from memory, 1024 per GB) as it counts memory.</summary>
public sealed class CpuPlacementTests
{
    private const long Mb = 1024 * 1024;

    [Fact]
    public void CpuShares_AreProportionalToMemory_WithTheEnginesMinimum()
    {
        Assert.Equal(1024, CpuShares.ForMemory(1024 * Mb));
        Assert.Equal(128, CpuShares.ForMemory(128 * Mb));
        Assert.Equal(512, CpuShares.ForMemory(512 * Mb));
        Assert.Equal(2, CpuShares.ForMemory(1 * Mb));
    }

    [Fact]
    public void CpuCap_IsACorePerGigabyte_AtLeastAQuarter_AtMostTheCellsCores()
    {
        Assert.Equal(1.0, CpuShares.CoresForMemory(1024 * Mb, cellCores: 2));
        Assert.Equal(0.5, CpuShares.CoresForMemory(512 * Mb, cellCores: 2));
        Assert.Equal(0.25, CpuShares.CoresForMemory(128 * Mb, cellCores: 2));
        Assert.Equal(0.75, CpuShares.CoresForMemory(768 * Mb, cellCores: 2));
        // The engine refuses a cap above the host's cores.
        Assert.Equal(2.0, CpuShares.CoresForMemory(4096 * Mb, cellCores: 2));
    }

    [Fact]
    public void StartupShares_AreAtLeastADefaultProcesss_UntilTheFirstHealthyCheck()
    {
        Assert.Equal(1024, CpuShares.StartupShares(64 * Mb));
        Assert.Equal(1024, CpuShares.StartupShares(512 * Mb));
        Assert.Equal(2048, CpuShares.StartupShares(2048 * Mb));
    }

    [Fact]
    public void ACellWithMemoryButNoCpuRoom_IsRefused_AndTheReasonSaysCpu()
    {
        // Plenty of memory, one core's shares: two 512-MB instances fill its CPU.
        var scheduler = new Scheduler(new SpreadPlacementPolicy(), [new CellCapacity("a", "z1", 16384 * Mb, 100, CpuShares: 1024)]);
        Assert.Equal("a", scheduler.Place("app", 512 * Mb, out _));
        Assert.Equal("a", scheduler.Place("app", 512 * Mb, out _));

        Assert.Null(scheduler.Place("app", 512 * Mb, out var reason));
        Assert.Equal("insufficient CPU: 512 CPU shares short on the cell with the most to spare", reason);
        Assert.Null(scheduler.PlaceOn("a", "app", 512 * Mb));
        Assert.Null(scheduler.Place("small", 1 * Mb, out _)); // even 2 shares do not fit
    }

    [Fact]
    public void CpuRoom_SendsInstancesToTheCellThatHasIt()
    {
        // b is preferred by spread (fewer reserved bytes) until its CPU is full.
        var scheduler = new Scheduler(new SpreadPlacementPolicy(),
            [new CellCapacity("a", "z1", 8192 * Mb, 100, CpuShares: 8192), new CellCapacity("b", "z1", 8192 * Mb, 100, CpuShares: 256)]);
        scheduler.Reserve("a", "other", 1024 * Mb);
        Assert.Equal("b", scheduler.Place("app", 256 * Mb, out _));
        Assert.Equal("a", scheduler.Place("app2", 256 * Mb, out _)); // b has memory left but no CPU
    }

    [Fact]
    public void ACellThatReportsNoCpu_IsPlacedByMemoryAlone()
    {
        var scheduler = new Scheduler(new SpreadPlacementPolicy(), [new CellCapacity("old", "z1", 4096 * Mb, 100)]);
        for (var i = 0; i < 8; i++)
            Assert.Equal("old", scheduler.Place("app", 512 * Mb, out _));
    }
}
