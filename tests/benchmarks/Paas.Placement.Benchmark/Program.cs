using System.Diagnostics;
using Paas.Placement;

// Placement decisions per second: 10,000 instances of 100 apps over 1,000 simulated cells in 10 zones.
// Goal: 5,000 decisions/s or more. Run: dotnet run -c Release --project tests/benchmarks/Paas.Placement.Benchmark
const long Mb = 1024 * 1024;
var cells = Enumerable.Range(0, 1000).Select(i => new CellCapacity($"cell-{i:0000}", $"zone-{i % 10}", 16 * 1024 * Mb, 100)).ToList();
for (var round = 1; round <= 3; round++)
{
    var scheduler = new Scheduler(new SpreadPlacementPolicy(), cells);
    var clock = Stopwatch.StartNew();
    var unplaced = 0;
    for (var i = 0; i < 10_000; i++)
    {
        if (scheduler.Place($"app-{i % 100}", (256 + i % 4 * 128) * Mb, out _) is null)
            unplaced++;
    }
    clock.Stop();
    Console.WriteLine($"round {round}: 10000 decisions over {cells.Count} cells in {clock.Elapsed.TotalMilliseconds:0} ms = {10_000 / clock.Elapsed.TotalSeconds:0} decisions/s ({unplaced} unplaced)");
}
