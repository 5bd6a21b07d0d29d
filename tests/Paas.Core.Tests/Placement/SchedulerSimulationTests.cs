using Paas.Core.Instances;
using Paas.Placement;

namespace Paas.Core.Tests.Placement;

/// <summary>
/// Placement against an in-process simulation of fake cells that implement the same cell interface as
/// the Docker-backed ones: the scheduler decides, the fake cells run (and refuse over-commitment).
/// </summary>
public sealed class SchedulerSimulationTests
{
    private const long Mb = 1024 * 1024;

    private static async Task<List<string>> PlaceAsync(IReadOnlyList<FakeCell> cells, IEnumerable<(string App, long Memory)> requests)
    {
        var scheduler = new Scheduler(new SpreadPlacementPolicy(), cells.Select(c => new CellCapacity(c.Name, c.Zone, c.MemoryBytes, c.MaxInstances)));
        var problems = new List<string>();
        var n = 0;
        foreach (var (app, memory) in requests)
        {
            n++;
            var chosen = scheduler.Place(app, memory, out var reason);
            if (chosen is null)
            {
                problems.Add(reason!);
                continue;
            }
            await cells.Single(c => c.Name == chosen).StartAsync(new InstanceSpec($"{app}-web-{n}", app, 1, "web", n, "img", "cmd", new Dictionary<string, string>(), memory), CancellationToken.None);
        }
        return problems;
    }

    private static List<FakeCell> Cells(int count, int zones, long memory, int maxInstances = 1000) =>
        Enumerable.Range(0, count).Select(i => new FakeCell($"cell-{i:000}", $"zone-{i % zones}", memory, maxInstances)).ToList();

    [Fact]
    public async Task ManyApps_AreSpreadEvenlyOverZonesAndCells()
    {
        var cells = Cells(30, zones: 3, memory: 8192 * Mb);

        var problems = await PlaceAsync(cells, Enumerable.Range(0, 10).SelectMany(a => Enumerable.Repeat(($"app{a}", 256 * Mb), 30)));

        Assert.Empty(problems);
        for (var a = 0; a < 10; a++)
        {
            var app = $"app{a}";
            var perZone = cells.GroupBy(c => c.Zone).Select(z => z.Sum(c => c.Instances.Count(i => i.App == app))).ToList();
            Assert.All(perZone, count => Assert.Equal(10, count));
            Assert.All(cells, c => Assert.Equal(1, c.Instances.Count(i => i.App == app)));
        }
    }

    [Fact]
    public async Task AFullPlatform_PlacesWhatFits_AndSaysWhatIsShort()
    {
        var cells = Cells(3, zones: 3, memory: 1024 * Mb);

        var problems = await PlaceAsync(cells, Enumerable.Repeat(("big", 400 * Mb), 8));

        Assert.Equal(6, cells.Sum(c => c.Instances.Count));
        Assert.Equal(2, problems.Count);
        Assert.All(problems, p => Assert.Equal("insufficient memory: 176 MB short on the emptiest cell", p));
    }

    [Fact]
    public async Task InstanceCaps_AreRespected()
    {
        var cells = Cells(2, zones: 1, memory: 64 * 1024 * Mb, maxInstances: 3);

        var problems = await PlaceAsync(cells, Enumerable.Repeat(("capped", 64 * Mb), 7));

        Assert.All(cells, c => Assert.Equal(3, c.Instances.Count));
        Assert.Equal(["every cell runs its maximum number of instances"], problems);
    }

    [Fact]
    public void SamePlacementsForSameInputs()
    {
        string Run()
        {
            var scheduler = new Scheduler(new SpreadPlacementPolicy(), Cells(50, 5, 4096 * Mb).Select(c => new CellCapacity(c.Name, c.Zone, c.MemoryBytes, c.MaxInstances)));
            return string.Join(",", Enumerable.Range(0, 500).Select(i => scheduler.Place($"app{i % 7}", (128 + i % 3 * 128) * Mb, out _)));
        }

        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void PlaceOn_ACrashedInstancesOwnCell_WhenItHasRoom_ElseNothing()
    {
        var scheduler = new Scheduler(new SpreadPlacementPolicy(), [new CellCapacity("a", "z1", 1024 * Mb, 10), new CellCapacity("b", "z2", 1024 * Mb, 10)]);
        scheduler.Reserve("a", "app", 512 * Mb);
        scheduler.Reserve("a", "app", 256 * Mb);

        // Spread would choose b (no instance of the app there); the replacement goes back to a.
        Assert.Equal("a", scheduler.PlaceOn("a", "app", 256 * Mb));
        Assert.Null(scheduler.PlaceOn("a", "app", 1 * Mb)); // full now
        Assert.Null(scheduler.PlaceOn("gone", "app", 1 * Mb));
        Assert.Equal("b", scheduler.Place("app", 256 * Mb, out _));
    }
}
