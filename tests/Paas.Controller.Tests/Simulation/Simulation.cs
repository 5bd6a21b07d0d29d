using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Paas.Controller.Deploys;
using Paas.Controller.Formation;
using Paas.Controller.Instances;
using Paas.Controller.Releases;
using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Instances;

namespace Paas.Controller.Tests.Simulation;

/// <summary>
/// The controller's core (Converger, InstanceManager, Deployer, ReleaseService, FormationService: the real
/// classes) on simulated parts: in-memory cells and router, the real SQLite state store in a scratch file,
/// and a clock the test moves. No Docker, Redis or HTTP; the end-to-end suite stays the proof on real parts.
/// </summary>
public sealed partial class Simulation : IDisposable
{
    public const string Owner = "sim";
    private readonly string _dir = Directory.CreateTempSubdirectory("paas-sim-").FullName;
    private readonly SqliteFile _file;

    public ManualTime Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    public SimFleet Fleet { get; }
    public SimRouter Router { get; } = new();
    public PlatformDatabase State { get; }
    public DomainStore Domains { get; }
    public AppLocks Locks { get; } = new();
    public CrashTracker Crashes { get; }
    public PaasSettings Settings { get; }
    public InstanceManager Instances { get; }
    public Converger Converger { get; }
    public Deployer Deployer { get; }
    public ReleaseService Releases { get; }
    public FormationService Formation { get; }

    /// <summary>What deploys and passes printed, for a failing test's message.</summary>
    public ConcurrentQueue<string> Output { get; } = new();

    public Simulation(int cells = 3, int rolloutInFlight = 1)
    {
        Fleet = new SimFleet(Time);
        for (var i = 1; i <= cells; i++)
            Fleet.Add($"cell{i}");
        // No drain wait: the simulated router drops a route as it is removed, and the manual clock has no timers.
        Settings = new PaasSettings { DrainTime = TimeSpan.Zero, RolloutMaxInFlight = rolloutInFlight };
        _file = new SqliteFile(Path.Combine(_dir, "paas.db"));
        State = new PlatformDatabase(_file, Time);
        State.TryCreateUser(Owner, "admin");
        Crashes = new CrashTracker(RestartBackoff.Default, Time);
        var pushes = new ReleaseImagePushes(State, NullLogger<ReleaseImagePushes>.Instance);
        Instances = new InstanceManager(Fleet, Router, State, pushes, Settings, Time, NullLogger<InstanceManager>.Instance);
        // The automatic rollback is resolved from the services when it happens, as in Program.cs.
        var services = new ServiceCollection().AddSingleton(_ => Releases!).BuildServiceProvider();
        Domains = new DomainStore(_file, Time);
        Converger = new Converger(State, Domains, Fleet, Instances, Router, Crashes, Locks, Fleet, Settings, Time,
            NullLogger<Converger>.Instance, services);
        // Staging, one-offs, image pruning and the app log are not on the paths simulated here (a deploy starts from its built release).
        Deployer = new Deployer(State, null!, null!, Instances, Locks, Converger, Settings, null!, null!, null!, null!, pushes, null!, Time, NullLogger<Deployer>.Instance);
        var images = new ReleaseImages(null, (_, _) => Task.FromResult<IEnumerable<string>>(State.ListApps().SelectMany(a => State.ListReleases(a.Name)).Select(r => r.Image).ToList()),
            NullLogger<ReleaseImages>.Instance);
        Releases = new ReleaseService(State, Deployer, Locks, images, Time);
        Formation = new FormationService(State, Converger, Instances, Locks, Settings, null!);
        // Subscribes the converger to the fleet's events (what ExecuteAsync does first, without its timers).
        Fleet.SubscribeAsync(Converger.OnCellEventAsync);
    }

    public Task<string> Line(string line)
    {
        Output.Enqueue(line);
        return Task.FromResult(line);
    }

    /// <summary>Creates the app and deploys its first release at <paramref name="web"/> web instances.</summary>
    public async Task CreateAppAsync(string app, int web, string image = "v1")
    {
        if (!State.TryCreateApp(app, Owner, out _))
            throw new InvalidOperationException($"{app} exists already.");
        State.SetFormation(app, [new FormationEntry("web", web, 64)]);
        if (!await DeployAsync(app, image))
            throw new InvalidOperationException($"The first deploy of {app} failed:\n{Log()}");
    }

    /// <summary>A push whose image is built: the deploy's steps from there (rolling start, retire, record), under the app's lock as a push holds it.</summary>
    public async Task<bool> DeployAsync(string app, string image)
    {
        using var _ = await Locks.AcquireAsync(app, CancellationToken.None);
        var version = State.NextReleaseVersion(app);
        var now = Time.GetUtcNow();
        var release = new ReleaseRecord(app, version, image, $"c0ffee{version}", "sim", new Dictionary<string, string> { ["web"] = "serve" }, now)
        {
            Description = $"Deploy {image}",
        };
        try
        {
            await Deployer.RunDeployStepsAsync(new DeployRecord(app, version, DeployPhase.ImageReady, release.Commit, now, now) { Release = release }, Owner,
                l => Line(l), CancellationToken.None);
            return true;
        }
        catch (DeployException e)
        {
            Output.Enqueue($"deploy failed: {e.Message}");
            State.ReturnReleaseVersion(app, version);
            return false;
        }
    }

    /// <summary>One full periodic pass.</summary>
    public Task PassAsync() => Converger.ConvergeAllAsync(CancellationToken.None);

    /// <summary>The instance exits; its cell's event reaches the converger, which acts on it before this returns.</summary>
    public Task CrashAsync(InstanceState instance) => Fleet.RaiseAsync(Fleet[instance.Cell].Crash(instance.InstanceId));

    /// <summary>Running instances of the app on cells the controller reaches.</summary>
    public IReadOnlyList<InstanceState> Running(string app) =>
        Fleet.Cells.Where(c => c.Reachable).SelectMany(c => c.Instances).Where(i => i.App == app && i.Running).ToList();

    /// <summary>Running instances of the app on every cell, reachable or not (what actually runs).</summary>
    public IReadOnlyList<InstanceState> RunningAnywhere(string app) =>
        Fleet.Cells.SelectMany(c => c.Instances).Where(i => i.App == app && i.Running).ToList();

    public string Log() => string.Join("\n", Output);

    /// <summary>Waits (real time, bounded) for work the converger started in the background, such as an automatic rollback.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, int milliseconds = 10_000)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.ElapsedMilliseconds > milliseconds)
                return false;
            await Task.Delay(10);
        }
        return true;
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // A scratch directory left in /tmp harms nothing.
        }
    }
}
