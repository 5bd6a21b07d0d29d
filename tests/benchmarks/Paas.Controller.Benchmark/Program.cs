using System.Diagnostics;
using Paas.Controller.Tests.Simulation;

// The controller's convergence pass at scale, on the simulation (tests/Paas.Controller.Tests/Simulation): the real
// Converger over in-memory cells and router and the real SQLite store, so what is timed is the controller's own work.
// Usage: dotnet run -c Release --project tests/benchmarks/Paas.Controller.Benchmark [APPS] [INSTANCES] [CELLS]
var apps = args.Length > 0 ? int.Parse(args[0]) : 1000;
var perApp = args.Length > 1 ? int.Parse(args[1]) : 3;
var cells = args.Length > 2 ? int.Parse(args[2]) : 10;
const int Rounds = 5;

using var sim = new Simulation(cells);
var setup = Stopwatch.StartNew();
for (var i = 0; i < apps; i++)
    await sim.CreateAppAsync($"app{i:D4}", perApp);
Console.WriteLine($"{apps} apps x {perApp} instances on {cells} cells deployed in {setup.Elapsed.TotalSeconds:0.0} s");

await sim.PassAsync(); // warm-up: JIT, SQLite's caches
await sim.Converger.ConvergeChangedAsync(CancellationToken.None);
var changed = "app" + (apps / 2).ToString("D4");
var names = sim.State.ListApps().Select(a => a.Name).ToList();

Console.WriteLine("-- the periodic pass (every PAAS_CONVERGE_SECONDS)");
// Before: every tick was a full pass, which read the store 4 times per app. After: every tick is the incremental
// pass; the full one, its store reads batched, every PAAS_FULL_CONVERGE_SECONDS.
var perAppReads = await MeasureAsync(() =>
{
    foreach (var name in names)
    {
        _ = sim.Domains.ListForApp(name);
        _ = sim.State.RouteOptions(name);
        _ = sim.State.CurrentRelease(name);
        _ = sim.State.Formation(name);
    }
    return Task.CompletedTask;
});
var batchedReads = await MeasureAsync(() =>
{
    _ = sim.Domains.ListAll();
    _ = sim.State.AllRouteOptions();
    _ = sim.State.CurrentReleases();
    _ = sim.State.Formations();
    return Task.CompletedTask;
});
var fullNow = await MeasureAsync(() => sim.PassAsync());
// The old pass is gone from the code: its cost is today's full pass with the batched reads swapped for the per-app ones.
Print("before: full pass, nothing changed (= the 3 rows below)", (fullNow.MedianMs - batchedReads.MedianMs + perAppReads.MedianMs, fullNow.Lists, fullNow.Listed));
Print("        full pass now, nothing changed", fullNow);
Print("        - its store reads now (4 in all, batched)", batchedReads);
Print("        + the same reads before (4 per app)", perAppReads);
Print("after:  incremental pass, nothing changed", await MeasureAsync(() => sim.Converger.ConvergeChangedAsync(CancellationToken.None)));
// One app changed by a store write alone (a scale by another controller): the same work for both.
var fullScaled = await MeasureAsync(() => sim.PassAsync(), before: ScaleOne);
Print("before: full pass, one app scaled (+ the per-app reads)", (fullScaled.MedianMs - batchedReads.MedianMs + perAppReads.MedianMs, fullScaled.Lists, fullScaled.Listed));
Print("        full pass now, one app scaled", fullScaled);
Print("after:  incremental pass, one app scaled", await MeasureAsync(() => sim.Converger.ConvergeChangedAsync(CancellationToken.None), before: ScaleOne));

Console.WriteLine("-- one app's own pass (a cell event's wake-up): its instances from the cells");
// Before: every cell's whole listing, filtered in the controller. After: each cell filters by the app.
Print("before: every cell lists every app's instances", await MeasureAsync(async () => _ = (await sim.Fleet.ListAsync(CancellationToken.None)).Where(i => i.App == changed).ToList()));
Print("after:  every cell lists the app's instances", await MeasureAsync(async () => _ = await sim.Fleet.ListAsync(changed, CancellationToken.None)));
Print("after:  the changed app's whole pass (replaces a crash)", await MeasureAsync(async () =>
{
    using var _ = await sim.Locks.AcquireAsync(changed, CancellationToken.None);
    await sim.Converger.ConvergeAppAsync(changed, _ => Task.CompletedTask, CancellationToken.None);
}, before: CrashOne));

Console.WriteLine("-- the full pass (the safety net, every PAAS_FULL_CONVERGE_SECONDS)");
Print("after:  full pass, one app crashed (its event missed)", await MeasureAsync(() => sim.PassAsync(), before: CrashOne));
await sim.PassAsync();
if (sim.Running(changed).Count != sim.State.Formation(changed)["web"].Quantity)
    Console.WriteLine($"!! {changed} runs {sim.Running(changed).Count} instances, not {sim.State.Formation(changed)["web"].Quantity}");
return 0;

void ScaleOne()
{
    var quantity = sim.State.Formation(changed)["web"].Quantity == perApp ? perApp + 1 : perApp;
    sim.State.SetFormation(changed, [new Paas.Controller.State.FormationEntry("web", quantity, null)]);
}

void CrashOne()
{
    var victim = sim.Running(changed).First();
    sim.Fleet[victim.Cell].Crash(victim.InstanceId);
    // Long enough apart that the slot is out of its restart backoff.
    sim.Time.Advance(TimeSpan.FromMinutes(2));
}

async Task<(double MedianMs, double Lists, double Listed)> MeasureAsync(Func<Task> pass, Action? before = null)
{
    var times = new List<double>();
    var (lists0, listed0) = sim.Fleet.Listings;
    var (appLists0, appListed0) = sim.Fleet.AppListings;
    for (var round = 0; round < Rounds; round++)
    {
        before?.Invoke();
        var clock = Stopwatch.StartNew();
        await pass();
        times.Add(clock.Elapsed.TotalMilliseconds);
    }
    var (lists1, listed1) = sim.Fleet.Listings;
    var (appLists1, appListed1) = sim.Fleet.AppListings;
    times.Sort();
    return (times[Rounds / 2], (lists1 - lists0 + appLists1 - appLists0) / (double)Rounds, (listed1 - listed0 + appListed1 - appListed0) / (double)Rounds);
}

static void Print(string what, (double MedianMs, double Lists, double Listed) m) =>
    Console.WriteLine($"{what,-60} median of {Rounds}: {m.MedianMs,8:0.00} ms   ({m.Lists:0} listings of the cells, {m.Listed:0} instances read)");
