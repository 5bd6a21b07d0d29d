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
var full = await MeasureAsync(() => sim.PassAsync());
Print("full pass, nothing changed", full);

// One app changed: an instance exited and its event was missed, so a pass has to notice and replace it.
var changed = "app" + (apps / 2).ToString("D4");
var fullOneChanged = await MeasureAsync(() => sim.PassAsync(), before: CrashOne);
Print("full pass, one app changed", fullOneChanged);
var oneApp = await MeasureAsync(async () =>
{
    using var _ = await sim.Locks.AcquireAsync(changed, CancellationToken.None);
    await sim.Converger.ConvergeAppAsync(changed, _ => Task.CompletedTask, CancellationToken.None);
}, before: CrashOne);
Print("the changed app's own pass (a cell event's wake-up)", oneApp);
// Where a full pass's time goes: the desired state it reads per app from the store (domains, routing options, current release, formation).
var names = sim.State.ListApps().Select(a => a.Name).ToList();
var reads = await MeasureAsync(() =>
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
Print("of a full pass: the store reads alone (4 per app)", reads);
if (sim.Running(changed).Count != perApp)
    Console.WriteLine($"!! {changed} runs {sim.Running(changed).Count} instances, not {perApp}");
return 0;

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
    for (var round = 0; round < Rounds; round++)
    {
        before?.Invoke();
        var clock = Stopwatch.StartNew();
        await pass();
        times.Add(clock.Elapsed.TotalMilliseconds);
    }
    var (lists1, listed1) = sim.Fleet.Listings;
    times.Sort();
    return (times[Rounds / 2], (lists1 - lists0) / (double)Rounds, (listed1 - listed0) / (double)Rounds);
}

static void Print(string what, (double MedianMs, double Lists, double Listed) m) =>
    Console.WriteLine($"{what,-52} median of {Rounds}: {m.MedianMs,8:0.0} ms   ({m.Lists:0} listings of every cell, {m.Listed:0} instances read)");
