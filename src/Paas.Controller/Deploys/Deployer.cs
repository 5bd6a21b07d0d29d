using System.Diagnostics;
using System.Security.Cryptography;
using Paas.Controller.Git;
using Paas.Controller.Instances;
using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Instances;
using Paas.Core.Logs;
using Paas.Core.Releases;
using Paas.Staging;
using Paas.Staging.Buildpacks;
using Paas.Staging.Hygiene;
using Paas.Staging.OneOff;
using Paas.Staging.Source;

namespace Paas.Controller.Deploys;

/// <summary>
/// One push, top to bottom: read the pushed commit, stage it into an image, start the new release's
/// instances and wait until they are healthy and routed, then retire the old ones. Any failure leaves
/// the previous release serving.
/// </summary>
public sealed class Deployer(
    IStateStore database,
    GitRepositories repositories,
    IStager stager,
    InstanceManager instances,
    AppLocks locks,
    Converger converger,
    PaasSettings settings,
    Tasks.OneOffTasks oneOff,
    ImageJanitor janitor,
    RegistryPruner registry,
    Cells.CellDirectory cells,
    Releases.ReleaseImagePushes pushes,
    AppLogWriter logs,
    TimeProvider time,
    ILogger<Deployer> logger,
    Releases.BuildOutputs? buildOutputs = null)
{
    public Task<bool> DeployAsync(string app, string revision, string? quarantine, string actor, Func<string, Task> output, CancellationToken cancellationToken) =>
        DeployCoreAsync(app, revision, actor, output, (version, lines) => BuildReleaseAsync(app, version, revision, quarantine, actor, lines, cancellationToken), cancellationToken);

    /// <summary>
    /// Deploys a prebuilt image (`paas deploy:image`): the staging cell pulls it (a one-line Dockerfile `FROM IMAGE`,
    /// through the same checks as a Dockerfile app: never root unless allowed), and it becomes a release like a push's.
    /// A missing image or tag fails with the engine's reason and changes nothing.
    /// </summary>
    public Task<bool> DeployImageAsync(string app, string image, string? username, string? password, string actor, Func<string, Task> output, CancellationToken cancellationToken) =>
        DeployCoreAsync(app, image, actor, output, (version, lines) => BuildImageReleaseAsync(app, version, image, username, password, lines, cancellationToken), cancellationToken);

    private async Task<(ReleaseRecord Release, AppManifest Manifest, string? StagedOn)> BuildImageReleaseAsync(string app, int version, string image, string? username, string? password, Func<string, Task> output, CancellationToken cancellationToken)
    {
        await output($"-----> Deploying image {image}");
        // Credentials given with this deploy win; otherwise the app's stored login to the image's registry, if any.
        var registry = Paas.Staging.Dockerfiles.ImageReferences.Registry(image);
        if (username is null && database.RegistryCredentials(app).TryGetValue(registry, out var login))
        {
            (username, password) = (login.Username, login.Password);
            await output($"       Pulling with the app's login to {registry} (as {login.Username})");
        }
        var config = new Dictionary<string, string>(database.Config(app), StringComparer.Ordinal);
        var dockerfile = System.Text.Encoding.UTF8.GetBytes($"FROM {image}\n");
        var staged = await stager.StageAsync(
            new StagingRequest(app, version, image, async (stream, ct) =>
            {
                await using var writer = new System.Formats.Tar.TarWriter(stream, System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: true);
                await writer.WriteEntryAsync(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "Dockerfile") { DataStream = new MemoryStream(dockerfile) }, ct);
            }, config, [], BuildpackTrust.Tenant)
            {
                Dockerfile = true,
                Image = image,
                RegistryUsername = username,
                RegistryPassword = password,
            },
            output,
            cancellationToken);
        if (staged.RegistryPush is { } push && staged.Cell is { } builtOn)
            pushes.Track(app, version, builtOn, staged.Image, push);
        return (new ReleaseRecord(app, version, staged.Image, image, staged.Buildpack, new Dictionary<string, string>(staged.Release.DefaultProcessTypes), DateTimeOffset.UtcNow)
        {
            Config = config,
            Defaults = new Dictionary<string, string>(),
            Description = $"Deploy image {staged.DetectedAs}",
            RegistryImage = staged.RegistryImage,
        }, AppManifest.Empty, staged.Cell);
    }

    private async Task<bool> DeployCoreAsync(string app, string revision, string actor, Func<string, Task> output,
        Func<int, Func<string, Task>, Task<(ReleaseRecord Release, AppManifest Manifest, string? StagedOn)>> build, CancellationToken cancellationToken)
    {
        // Everything the pusher sees also goes to the app's log, so `paas logs` shows the build afterwards.
        var pusher = output;
        var recorder = buildOutputs?.Begin(app);
        output = line =>
        {
            recorder?.Add(line);
            logs.Post(app, LogSource.Staging, "", line);
            return pusher(line);
        };
        var clock = Stopwatch.StartNew();
        using var _ = await locks.AcquireAsync(app, cancellationToken);
        int? version = null;
        DeployRecord? deploy = null;
        var recorded = false;
        try
        {
            var firstDeploy = database.CurrentRelease(app) is null;
            version = database.NextReleaseVersion(app);
            var now = time.GetUtcNow();
            deploy = new DeployRecord(app, version.Value, DeployPhase.Staging, revision, now, now);
            database.SaveDeploy(deploy);
            var (release, manifest, stagedOn) = await build(version.Value, output);
            deploy = deploy with { Release = release };
            await RunDeployStepsAsync(deploy, actor, output, cancellationToken, stagedOn, beforeRollout: () => ApplyManifest(release, manifest, firstDeploy));
            recorded = true;
            await output($"-----> Released v{release.Version}{(release.Buildpack == "image" ? $" ({release.Description["Deploy image ".Length..]})" : "")} in {clock.Elapsed.TotalSeconds:0.0} s");
            await output($"       {settings.AppUrl(app)} deployed to Paas");
            logger.LogInformation("Deployed {App} v{Version} ({Commit}) in {Seconds:0.0} s", app, release.Version, revision, clock.Elapsed.TotalSeconds);
            if (firstDeploy && manifest.Postdeploy is { Length: > 0 } postdeploy)
                await RunPostdeployAsync(release, postdeploy, output, cancellationToken, stagedOn);
            await AwaitImagePushAsync(release, output, cancellationToken);
            SaveBuildOutput(recorder, release.Version);
            return true;
        }
        catch (Exception e) when (e is StagingException or DeployException or StateStoreUnavailableException)
        {
            // Failures after staging are recorded by RunDeployStepsAsync; this records the ones before it.
            if (deploy is { Release: null })
                Finish(deploy, DeployPhase.Failed, e.Message);
            await output($" !     Push rejected: {e.Message}");
            await output(" !     The previous release, if any, is still serving.");
            logger.LogInformation("Deploy of {App} failed: {Reason}", app, e.Message);
            return false;
        }
        finally
        {
            // A failed push leaves no gap in the version numbers (returning one that was recorded after all is harmless).
            if (version is { } reserved && !recorded)
            {
                try
                {
                    database.ReturnReleaseVersion(app, reserved);
                }
                catch (StateStoreUnavailableException)
                {
                    // The store that refused the deploy refuses this too; the version stays a gap.
                }
            }
            await PruneAsync(app, output);
        }
    }

    private void SaveBuildOutput(Releases.BuildOutputs.Recorder? recorder, int version)
    {
        try
        {
            recorder?.Save(version);
        }
        catch (Exception e) when (e is StateStoreUnavailableException or Microsoft.Data.Sqlite.SqliteException)
        {
            // The release stands; only `releases:output` will say it has none.
            logger.LogWarning("Could not store the build output of v{Version}: {Reason}", version, e.Message);
        }
    }

    /// <summary>
    /// A deploy from its staged image on: release phase, then the rolling start, each step recorded in the
    /// deploy's record before it begins (so a controller that dies in it knows, on restart, what to resume
    /// or undo), and the outcome recorded at the end. A cancelled deploy (the controller is stopping) stays
    /// unfinished on purpose: the next start resumes it. Pushes, config changes and rollbacks all come here.
    /// </summary>
    /// <param name="fromRollout">Skip the release phase: a resumed deploy whose release command already succeeded.</param>
    internal async Task<DeployRecord> RunDeployStepsAsync(DeployRecord deploy, string actor, Func<string, Task> output, CancellationToken cancellationToken,
        string? stagedOn = null, Action? beforeRollout = null, bool fromRollout = false)
    {
        var release = deploy.Release ?? throw new ArgumentException("A deploy has a release once its image exists.", nameof(deploy));
        try
        {
            if (!fromRollout)
            {
                deploy = Advance(deploy, release.ProcessTypes.ContainsKey(ReleaseProcess) ? DeployPhase.ReleasePhase : DeployPhase.ImageReady);
                await RunReleasePhaseAsync(release, output, cancellationToken, stagedOn);
            }
        }
        catch (Exception e) when (e is DeployException or Cells.CellUnavailableException)
        {
            Finish(deploy, DeployPhase.Failed, e.Message);
            throw;
        }
        try
        {
            beforeRollout?.Invoke();
            deploy = Advance(deploy, DeployPhase.Rolling);
            await RollOutAsync(release, actor, output, cancellationToken);
        }
        catch (Exception e) when (e is DeployException or Cells.CellUnavailableException)
        {
            // RollOutAsync put the previous release back before throwing.
            Finish(deploy, DeployPhase.RolledBack, e.Message);
            throw;
        }
        return Advance(deploy, DeployPhase.Released);
    }

    private DeployRecord Advance(DeployRecord deploy, DeployPhase phase)
    {
        var next = deploy with { Phase = phase, UpdatedAt = time.GetUtcNow() };
        database.SaveDeploy(next);
        return next;
    }

    /// <summary>Records a deploy's end; a store that refuses it leaves the record unfinished, and the next start settles it.</summary>
    internal DeployRecord Finish(DeployRecord deploy, DeployPhase phase, string reason)
    {
        var done = deploy with { Phase = phase, Reason = reason, UpdatedAt = time.GetUtcNow() };
        try
        {
            database.SaveDeploy(done);
        }
        catch (StateStoreUnavailableException e)
        {
            logger.LogWarning("The end of the deploy of {App} v{Version} ({Phase}) was not recorded: {Reason}", deploy.App, deploy.Version, phase, e.Message);
        }
        return done;
    }

    /// <summary>
    /// The release serves already (its instances on the building cell did not wait for the registry). When an instance
    /// on another cell needed the push, it ends here, in the push's output, so its outcome is seen and the digest is on
    /// the release when `git push` returns. When every instance runs on the building cell (a single host), nothing
    /// waits for it: the first push after `make run` would otherwise wait for the stack layer's upload too; the digest
    /// is stored when the push ends (ReleaseImagePushes). A failed push fails no deploy whose instances did not need
    /// it: it only keeps the release on its building cell.
    /// </summary>
    private async Task AwaitImagePushAsync(ReleaseRecord release, Func<string, Task> output, CancellationToken cancellationToken)
    {
        if (pushes.Find(release.App, release.Version) is not { } push)
            return;
        if (!push.Digest.IsCompleted && !await NeedsRegistryAsync(release, push.Cell, cancellationToken))
        {
            await output("       image push to the registry continues in the background");
            return;
        }
        try
        {
            await push.Digest.WaitAsync(cancellationToken);
            // Stored now, not only by ReleaseImagePushes' own continuation: `paas releases` shows it once the push returns.
            pushes.StoreIfPushed(release.App, release.Version);
        }
        catch (StagingException e)
        {
            await output($" !     {e.Message.TrimEnd('.')}; until a push succeeds, v{release.Version} runs only on cell {push.Cell}.");
        }
    }

    /// <summary>Whether an instance of the release runs on a cell other than <paramref name="builtOn"/> (when the cells or Redis cannot be asked: yes, wait as before).</summary>
    private async Task<bool> NeedsRegistryAsync(ReleaseRecord release, string builtOn, CancellationToken cancellationToken)
    {
        try
        {
            return (await instances.ListAsync(release.App, cancellationToken)).Any(i => i.Release == release.Version && i.Cell != builtOn);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The release serves already: not knowing where is no reason to fail the push, only to wait for the registry.
            logger.LogWarning("Could not list the instances of {App} v{Version} ({Reason}); waiting for its image push", release.App, release.Version, e.Message);
            return true;
        }
    }

    /// <summary>
    /// Heroku's release phase: the Procfile's `release:` command runs once, in a one-off container of the new
    /// image with the new config, before any instance of the release starts. If it fails, nothing is rolled out.
    /// </summary>
    internal async Task RunReleasePhaseAsync(ReleaseRecord release, Func<string, Task> output, CancellationToken cancellationToken, string? stagedOn = null)
    {
        if (!release.ProcessTypes.TryGetValue(ReleaseProcess, out var command))
            return;
        await output($"-----> Running release command: {command}");
        OneOffResult result;
        try
        {
            (result, _) = await RunOneOffAsync(release, ReleaseProcess, command, output, cancellationToken, stagedOn);
        }
        catch (Exception e) when (e is Cells.CellTaskException or Cells.CellUnavailableException)
        {
            throw new DeployException($"The release command could not run, so v{release.Version} was not deployed: {e.Message.TrimEnd('.')}.");
        }
        if (result.TimedOut)
            throw new DeployException($"The release command was still running after {StagingOptions.Describe(settings.StagingTimeout)}, so it was stopped and v{release.Version} was not deployed.");
        if (result.OutOfMemory)
            throw new DeployException($"The release command ran out of memory ({settings.AppMemoryBytes / (1024 * 1024)} MB), so v{release.Version} was not deployed.");
        if (result.ExitCode != 0)
            throw new DeployException($"The release command failed with exit code {result.ExitCode}, so v{release.Version} was not deployed.");
        await output("       Release command succeeded");
    }

    /// <summary>app.json's `scripts.postdeploy` runs once, after the app's first release is live; a failure is reported, not undone.</summary>
    private async Task RunPostdeployAsync(ReleaseRecord release, string command, Func<string, Task> output, CancellationToken cancellationToken, string? stagedOn)
    {
        await output($"-----> Running postdeploy script: {command}");
        string outcome;
        try
        {
            var (result, _) = await RunOneOffAsync(release, "postdeploy", command, output, cancellationToken, stagedOn);
            outcome = result.Succeeded ? "" : result.TimedOut ? "time limit reached" : $"exit code {result.ExitCode}";
        }
        catch (Exception e) when (e is Cells.CellTaskException or Cells.CellUnavailableException or DeployException)
        {
            outcome = e.Message.TrimEnd('.');
        }
        await output(outcome.Length == 0
            ? "       Postdeploy script succeeded"
            : $" !     The postdeploy script failed ({outcome}); v{release.Version} stays deployed.");
    }

    /// <summary>A deploy's one-off (release phase, postdeploy): the app's memory and the staging time limit, lines indented under their heading.</summary>
    private Task<(OneOffResult Result, string Cell)> RunOneOffAsync(ReleaseRecord release, string kind, string command, Func<string, Task> output, CancellationToken cancellationToken, string? stagedOn) =>
        oneOff.RunAsync(release, kind, command, release.Environment, settings.AppMemoryBytes, settings.StagingTimeout,
            line => output(OneOffRunner.IndentedLines + line), line => output(OneOffRunner.IndentedLines + line), cancellationToken, stagedOn);

    /// <summary>app.json's formation applies on the first deploy only (later, `paas ps:scale` owns it); its health checks on every deploy.</summary>
    private void ApplyManifest(ReleaseRecord release, AppManifest manifest, bool firstDeploy)
    {
        if (firstDeploy)
        {
            var entries = manifest.Formation
                .Where(f => f.Key != ReleaseProcess && release.ProcessTypes.ContainsKey(f.Key))
                .Select(f => new FormationEntry(f.Key, f.Value.Quantity, f.Value.MemoryMb))
                .ToList();
            if (entries.Count > 0)
                database.SetFormation(release.App, entries);
        }
        foreach (var (process, check) in manifest.HealthChecks)
            database.SetHealthCheck(release.App, process, check);
    }

    /// <summary>
    /// Keeps the images of the last N releases (and of anything still running); removes older ones and staging
    /// leftovers from the controller's engine, their manifests from the registry, and their copies from every
    /// live cell's engine. A cell that is down now is pruned by a later deploy of the app.
    /// </summary>
    private async Task PruneAsync(string app, Func<string, Task> output)
    {
        // Releases without a build (v1 "Initial release", config changes before the first deploy) name no image:
        // an empty name among the kept ones made a cell's prune fail and the push end after "Released".
        var kept = database.ListReleases(app, settings.KeepReleases).Where(r => r.HasBuild).ToList();
        try
        {
            foreach (var instance in await instances.ListAsync(app, CancellationToken.None))
            {
                if (database.FindRelease(app, instance.Release) is { } running)
                    kept.Add(running);
            }
        }
        catch (Exception e) when (e is Docker.DotNet.DockerApiException or HttpRequestException or IOException or Cells.CellUnavailableException)
        {
            // Without knowing what runs, nothing is removed: a running image must never go.
            logger.LogWarning("Pruning images of {App} skipped: {Reason}", app, e.Message);
            return;
        }
        PruneBuildOutputs(app, kept);
        var keep = kept.SelectMany(r => new[] { r.Image, r.RunImage }).ToHashSet(StringComparer.Ordinal);
        await PruneStepAsync(app, "the controller's engine", () => janitor.PruneReleasesAsync(app, keep, CancellationToken.None));
        if (registry.Enabled)
            await PruneStepAsync(app, "the registry", () => registry.PruneAsync(app, keep, CancellationToken.None));
        IReadOnlyList<Core.Cells.CellRegistration> live;
        try
        {
            live = await cells.LiveAsync();
        }
        catch (StackExchange.Redis.RedisException e)
        {
            logger.LogWarning("Pruning images of {App} on cells skipped: {Reason}", app, e.Message);
            return;
        }
        var runImages = kept.Select(r => r.RunImage).Concat(kept.Select(r => r.Image)).Distinct().ToList();
        await Task.WhenAll(live.Select(cell => PruneStepAsync(app, $"cell {cell.Name}",
            () => cells.Get(cell.Name, cell.Url).PruneImagesAsync(app, runImages, CancellationToken.None))));
    }

    /// <summary>The build outputs follow their releases: those of releases whose images go are deleted too.</summary>
    private void PruneBuildOutputs(string app, IReadOnlyList<ReleaseRecord> kept)
    {
        if (buildOutputs is null)
            return;
        try
        {
            var removed = buildOutputs.Prune(app, kept.Select(r => r.Version));
            if (removed > 0)
                logger.LogInformation("Pruned the build output of {Count} old release(s) of {App}", removed, app);
        }
        catch (Exception e) when (e is StateStoreUnavailableException or Microsoft.Data.Sqlite.SqliteException)
        {
            logger.LogWarning("Pruning the build outputs of {App} failed: {Reason}", app, e.Message);
        }
    }

    /// <summary>One place's pruning: what it removed is logged; a failure is logged and left to the next deploy.</summary>
    private async Task PruneStepAsync(string app, string where, Func<Task<IReadOnlyList<string>>> prune)
    {
        try
        {
            var removed = await prune();
            if (removed.Count > 0)
                logger.LogInformation("Pruned {Count} old image(s) of {App} from {Where}: {Images}", removed.Count, app, where, string.Join(", ", removed));
        }
        catch (Exception e) when (e is Docker.DotNet.DockerApiException or HttpRequestException or IOException or Cells.CellUnavailableException or TaskCanceledException)
        {
            logger.LogWarning("Pruning images of {App} from {Where} failed: {Reason}", app, where, e.Message);
        }
    }

    private const string ReleaseProcess = "release";

    private async Task<(ReleaseRecord Release, AppManifest Manifest, string? StagedOn)> BuildReleaseAsync(string app, int version, string revision, string? quarantine, string pusher, Func<string, Task> output, CancellationToken cancellationToken)
    {
        await output($"-----> Building {app} from {revision[..Math.Min(7, revision.Length)]}");
        var scratch = Path.Combine(settings.DataDirectory, "tmp");
        Directory.CreateDirectory(scratch);
        using var source = PushedSource.Open(repositories.PathOf(app), revision, quarantine, scratch);
        source.CheckLimits(settings.MaxPushBytes, settings.MaxPushEntries);

        IReadOnlyDictionary<string, string>? procfile = null;
        if (source.ReadRootFile("Procfile") is { } procfileText)
        {
            try
            {
                procfile = Procfile.Parse(procfileText);
            }
            catch (FormatException e)
            {
                throw new DeployException(e.Message);
            }
        }
        var manifest = source.ReadRootFile("app.json") is { } manifestText
            ? AppManifest.Parse(manifestText, (int)settings.HealthTimeout.TotalSeconds)
            : AppManifest.Empty;
        var config = new Dictionary<string, string>(database.Config(app), StringComparer.Ordinal);
        // The pusher's role decides what the buildpack URLs may reach, wherever the list came from.
        var trust = database.FindUser(pusher)?.Role == Auth.TokenService.AdminRole ? BuildpackTrust.Operator : BuildpackTrust.Tenant;
        var buildpacks = ChooseBuildpacks(app, config, source.ReadRootFile(".buildpacks"), manifest, trust, out var chosenBy);
        if (buildpacks.Count > 0)
            await output($"-----> Buildpacks from {chosenBy}: {string.Join(", ", buildpacks)}");

        await AddManifestConfigAsync(app, manifest, config, output);
        // A root Dockerfile builds the app when no buildpack was chosen: chosen buildpacks always win.
        var dockerfile = buildpacks.Count == 0 && source.ReadRootFile("Dockerfile") is not null;
        var buildArgs = new Dictionary<string, string>(StringComparer.Ordinal);
        if (dockerfile)
        {
            await output("-----> Dockerfile detected");
            foreach (var name in manifest.BuildArgs)
            {
                if (config.TryGetValue(name, out var value))
                    buildArgs[name] = value;
                else
                    await output($" !     app.json's build.args names {name}, which is not a config var: the build gets no value for it.");
            }
        }
        var staged = await stager.StageAsync(
            new StagingRequest(app, version, revision, (stream, _) => { source.WriteTar(stream); return Task.CompletedTask; }, config, buildpacks, trust)
            {
                Dockerfile = dockerfile,
                BuildArgs = buildArgs,
            },
            output,
            cancellationToken);
        if (staged.RegistryPush is { } push && staged.Cell is { } builtOn)
            pushes.Track(app, version, builtOn, staged.Image, push);

        // A Procfile wins over the buildpack's defaults, as on Heroku.
        var processTypes = new Dictionary<string, string>(staged.Release.DefaultProcessTypes);
        foreach (var (type, command) in procfile ?? new Dictionary<string, string>())
            processTypes[type] = command;
        if (processTypes.Keys.All(t => t == ReleaseProcess))
            throw new DeployException("The app defines no process to run: add a Procfile with a 'web:' line.");
        await output($"-----> Discovering process types");
        await output($"       Procfile declares types -> {(procfile is null ? "(none)" : string.Join(", ", procfile.Keys))}");
        await output($"       Default types for {staged.DetectedAs} -> {string.Join(", ", staged.Release.DefaultProcessTypes.Keys)}");
        // A buildpack's config_vars are defaults: config vars of the same name win (ReleaseRecord.Environment).
        return (new ReleaseRecord(app, version, staged.Image, revision, staged.Buildpack, processTypes, DateTimeOffset.UtcNow)
        {
            Config = config,
            Defaults = new Dictionary<string, string>(staged.Release.ConfigVars),
            Description = $"Deploy {revision[..Math.Min(7, revision.Length)]}",
            // Cells on other hosts pull the release from the registry, by digest (the staging cell pushed it, or
            // pushes it still: then ReleaseImagePushes has it, and stores it on the release once known).
            RegistryImage = staged.RegistryImage,
        }, manifest, staged.Cell);
    }

    /// <summary>
    /// The buildpacks for this build, first found wins: the app's list (`paas buildpacks:set`), the
    /// BUILDPACK_URL config var (Heroku's and Dokku's older way), the pushed `.buildpacks` file (one per
    /// line, # comments), app.json's `buildpacks`; none means detection.
    /// </summary>
    private List<BuildpackReference> ChooseBuildpacks(string app, IReadOnlyDictionary<string, string> config, string? dotBuildpacks, AppManifest manifest, BuildpackTrust trust, out string chosenBy)
    {
        (IEnumerable<string> Items, string Source) choice = database.Buildpacks(app) is { Count: > 0 } stored
            ? (stored, "the app's settings")
            : config.TryGetValue("BUILDPACK_URL", out var url) && url.Trim().Length > 0
                ? ([url.Trim()], "BUILDPACK_URL")
            : dotBuildpacks is not null && Lines(dotBuildpacks).Any()
                ? (Lines(dotBuildpacks), ".buildpacks")
                : (manifest.Buildpacks, "app.json");
        chosenBy = choice.Source;
        var result = new List<BuildpackReference>();
        foreach (var item in choice.Items)
        {
            var buildpack = BuildpackReference.Parse(item, out var problem)
                ?? throw new DeployException($"{(chosenBy == "the app's settings" ? "The app's buildpacks" : chosenBy)}: {problem}");
            if (buildpack.RefusalFor(trust) is { } refusal)
                throw new DeployException($"{(chosenBy == "the app's settings" ? "The app's buildpacks" : chosenBy)}: {refusal}");
            if (!result.Any(b => b.Text == buildpack.Text))
                result.Add(buildpack);
        }
        return result;

        static IEnumerable<string> Lines(string text) =>
            // Whole-line comments only: a #ref is part of a URL.
            text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'));
    }

    /// <summary>
    /// app.json's env fills in config vars the app does not have yet; a config var the user set always
    /// wins. A `generator: secret` gets 32 random bytes as hex once and keeps it (it is a config var then).
    /// The additions are stored with the release, so a failed deploy adds nothing.
    /// </summary>
    private async Task AddManifestConfigAsync(string app, AppManifest manifest, Dictionary<string, string> config, Func<string, Task> output)
    {
        // Releases from before config vars were stored on their own kept app.json's values only in the release.
        var previous = config.Count == 0 ? database.CurrentRelease(app)?.Config ?? new Dictionary<string, string>() : new Dictionary<string, string>();
        foreach (var variable in manifest.Env)
        {
            if (config.ContainsKey(variable.Name))
                continue;
            if (previous.TryGetValue(variable.Name, out var kept))
                config[variable.Name] = kept;
            else if (variable.GenerateSecret)
                config[variable.Name] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            else if (variable.Value is not null)
                config[variable.Name] = variable.Value;
            else if (variable.Required)
                await output($" !     app.json asks for {variable.Name}, which has no value: set it with `paas config:set {variable.Name}=…`.");
        }
    }

    /// <summary>
    /// A rolling deploy: for each slot of the formation, start the new instance, wait until it is healthy
    /// and routed, then drain the old one of that slot, a few slots at a time. The release is recorded only
    /// when every slot runs it; if a new instance fails, the new ones are removed and the previous release
    /// is restored to full scale (automatic rollback).
    /// </summary>
    internal async Task RollOutAsync(ReleaseRecord release, string actor, Func<string, Task> output, CancellationToken cancellationToken)
    {
        var formation = database.Formation(release.App);
        if (release.ProcessTypes.ContainsKey(ProcessType.Web) && !formation.ContainsKey(ProcessType.Web))
        {
            // Heroku's default: the first release with a web process runs one of it.
            database.SetFormation(release.App, [new FormationEntry(ProcessType.Web, 1, null)]);
            formation = database.Formation(release.App);
        }
        var slots = release.ProcessTypes.Keys
            .OrderBy(p => p == ProcessType.Web ? 0 : 1).ThenBy(p => p, StringComparer.Ordinal)
            .SelectMany(p => Enumerable.Range(1, formation.TryGetValue(p, out var f) ? f.Quantity : 0).Select(i => (Process: p, Index: i)))
            .ToList();
        if (!release.ProcessTypes.ContainsKey(ProcessType.Web))
            await output(" !     No web process type: the app will get no HTTP traffic.");
        await output($"-----> Launching v{release.Version} ({slots.Count} instance{(slots.Count == 1 ? "" : "s")})");

        var old = (await instances.ListAsync(release.App, cancellationToken)).Where(i => i.Running).ToList();
        var started = new List<InstanceState>();
        var pending = new List<InstanceState>();
        try
        {
            foreach (var batch in slots.Chunk(settings.RolloutMaxInFlight))
            {
                // Each one counted as it starts: when another of its batch fails, the rollback retires it too.
                await Task.WhenAll(batch.Select(async slot =>
                {
                    var fresh = await instances.StartAsync(release, slot.Process, slot.Index, old, pending, output, cancellationToken);
                    lock (started) started.Add(fresh);
                }));
                foreach (var slot in batch)
                {
                    foreach (var replaced in old.Where(i => i.Process == slot.Process && i.Index == slot.Index))
                    {
                        await instances.RetireAsync(replaced, drain: true, cancellationToken);
                        await output($"       Stopped {replaced.Process}.{replaced.Index} of v{replaced.Release}");
                    }
                }
            }
        }
        catch (Exception e) when (e is DeployException or Cells.CellUnavailableException)
        {
            await output($" !     {e.Message.TrimEnd('.')}; rolling back to the previous release");
            foreach (var instance in started)
                await instances.RetireAsync(instance, drain: true, CancellationToken.None);
            var restored = await converger.ConvergeAppAsync(release.App, output, CancellationToken.None);
            if (restored.Problems.Count > 0)
                await output($" !     Restoring the previous release: {string.Join("; ", restored.Problems)}");
            throw new DeployException(e.Message);
        }

        // The release and its config vars become current together: a rollout that failed changed neither.
        database.AddRelease(pushes.WithKnownDigest(release), replaceConfig: true);
        // A push that finished after the line above looked, and before the release was there to update.
        pushes.StoreIfPushed(release.App, release.Version);
        database.AddEvent(release.App, actor, "release", $"Released v{release.Version}: {release.Description}");
        // Whatever the new release no longer runs (other process types, extra instances) leaves now.
        await converger.ConvergeAppAsync(release.App, output, cancellationToken);
    }
}
