using Paas.Controller.Tasks;
using Paas.Core.Cells;
using Paas.Core.Instances;

namespace Paas.Controller.Tests.Tasks;

public sealed class TaskPlacementTests
{
    private static CellRegistration Cell(string name, long memoryMb, params long[] instanceMb) =>
        new(name, "zone-1", $"http://{name}:8091", memoryMb << 20, 100, DateTimeOffset.UnixEpoch,
            instanceMb.Select((mb, i) => new InstanceState($"{name}-{i}", "c", "app", 1, "web", i, name, true, null, DateTimeOffset.UnixEpoch) { MemoryLimitBytes = mb << 20 }).ToList());

    [Fact]
    public void Choose_TakesTheCellWithTheMostUnreservedMemory_NotTheLargest()
    {
        var chosen = TaskPlacement.Choose([Cell("big-but-full", 8192, 4096, 4096, 512), Cell("small", 2048), Cell("mid", 4096, 1024)]);
        Assert.Equal("mid", chosen?.Name);
    }

    [Fact]
    public void Choose_BreaksTiesByName_AndHasNothingWithoutCells()
    {
        Assert.Equal("a", TaskPlacement.Choose([Cell("b", 1024), Cell("a", 1024)])?.Name);
        Assert.Null(TaskPlacement.Choose([]));
    }
}
