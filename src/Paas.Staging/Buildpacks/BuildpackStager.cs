using System.Globalization;
using System.Runtime.InteropServices;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.Core.Instances;
using Paas.Core.Releases;
using Paas.Staging.Remote;

namespace Paas.Staging.Buildpacks;

/// <summary>
/// Runs the Heroku buildpack lifecycle (Lifecycle/stage.sh) in a throwaway container on the stack image,
/// then commits that container's /app as the release image: the stack plus one app layer. Buildpacks,
/// cache and results are bind mounts, so they never end up in the image.
/// </summary>
public sealed class BuildpackStager(IDockerClient docker, StagingOptions options)
{
    private const string AppUser = "1000:1000";
    private const int AppUid = 1000;

    /// <summary>
    /// Stages <paramref name="job"/> on this engine: the pushed tree from <paramref name="sourceTarPath"/>, the built-in
    /// buildpacks from <see cref="StagingOptions.BuildpacksDirectory"/>, fetched buildpack i from <paramref name="customDirectory"/>/i.
    /// Throws <see cref="StagingException"/> with the reason.
    /// </summary>
    public async Task<StagingResult> StageAsync(StagingJob job, string sourceTarPath, string customDirectory, Func<string, Task> output, CancellationToken cancellationToken)
    {
        var chosen = job.Buildpacks;
        var entries = new List<string>();
        var customBinds = new List<string>();
        for (var i = 0; i < chosen.Count; i++)
        {
            if (chosen[i].BuiltIn is { } name)
            {
                entries.Add(name);
                continue;
            }
            customBinds.Add($"{Path.Combine(customDirectory, i.ToString(CultureInfo.InvariantCulture))}:/buildpacks-custom/{i}:ro");
            entries.Add($"/buildpacks-custom/{i}");
        }

        var scratch = Path.Combine(options.ScratchRoot, $"stage-{job.App}-{Guid.NewGuid():N}");
        var outDir = Path.Combine(scratch, "out");
        var envDir = Path.Combine(scratch, "env");
        var cacheDir = Path.Combine(options.CacheRoot, job.App);
        Directory.CreateDirectory(outDir);
        Directory.CreateDirectory(envDir);
        Directory.CreateDirectory(cacheDir);
        foreach (var (name, value) in job.ConfigVars)
            await File.WriteAllTextAsync(Path.Combine(envDir, name), value, cancellationToken);
        foreach (var dir in new[] { outDir, envDir, cacheDir })
            ChownToAppUser(dir);

        var lifecycle = Path.Combine(AppContext.BaseDirectory, "Lifecycle");
        var env = new List<string>
        {
            "HOME=/app",
            "STACK=paas-bookworm",
            $"SOURCE_VERSION={job.SourceVersion}",
            $"APP_NAME={job.App}",
        };
        if (entries.Count > 0)
            env.Add("PAAS_BUILDPACKS=" + string.Join(',', entries));
        // The operator's defaults (PAAS_PIP_INDEX_URL…), under names no config var can take (PAAS_ is the platform's).
        foreach (var (name, value) in job.BuildDefaults ?? new Dictionary<string, string>())
        {
            if (name.StartsWith("PAAS_", StringComparison.Ordinal) && !name.Contains('='))
                env.Add($"{name}={value}");
        }

        var created = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = options.StackImage,
            User = AppUser,
            WorkingDir = "/app",
            Env = env,
            Cmd = ["/bin/bash", "/lifecycle/stage.sh"],
            Labels = new Dictionary<string, string>
            {
                [ContainerLabels.Platform] = options.PlatformId,
                [ContainerLabels.Role] = "staging",
                [ContainerLabels.App] = job.App,
                [ContainerLabels.Cell] = options.Cell ?? "",
            },
            HostConfig = new HostConfig
            {
                // A build reaches package registries, never another tenant's containers.
                NetworkMode = await Containers.IsolatedNetworkSetup.EnsureAsync(docker),
                Binds =
                [
                    $"{options.BuildpacksDirectory}:/buildpacks:ro",
                    $"{lifecycle}:/lifecycle:ro",
                    $"{cacheDir}:/tmp/cache",
                    $"{envDir}:/tmp/env:ro",
                    $"{outDir}:/tmp/out",
                    .. customBinds,
                ],
                Memory = options.MemoryBytes,
                MemorySwap = options.MemoryBytes,
                PidsLimit = 1024,
                Privileged = false,
                CapDrop = ["ALL"],
                SecurityOpt = ["no-new-privileges"],
                Init = true,
            },
        }, cancellationToken);

        try
        {
            await CopySourceAsync(created.ID, sourceTarPath, cancellationToken);
            using var timeLimit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeLimit.CancelAfter(options.TimeLimit);
            long exitCode;
            using (var stream = await docker.Containers.AttachContainerAsync(created.ID, false, new ContainerAttachParameters { Stream = true, Stdout = true, Stderr = true }, timeLimit.Token))
            {
                await docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), timeLimit.Token);
                try
                {
                    await PumpLinesAsync(stream, output, options.OutputLimitBytes, timeLimit.Token);
                    exitCode = (await docker.Containers.WaitContainerAsync(created.ID, timeLimit.Token)).StatusCode;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // Kill now rather than in the finally below, so the message is true when the pusher reads it.
                    await KillAsync(created.ID);
                    var running = Label(chosen, outDir, ReadResult(outDir, "current"));
                    throw new StagingException(running is null
                        ? $"Staging took longer than its limit of {StagingOptions.Describe(options.TimeLimit)} and was stopped."
                        : $"The {running} buildpack was still running when staging reached its limit of {StagingOptions.Describe(options.TimeLimit)}, so it was stopped.");
                }
            }

            var buildpack = ReadResult(outDir, "buildpack");
            var detected = ReadResult(outDir, "detected");
            var state = (await docker.Containers.InspectContainerAsync(created.ID, cancellationToken)).State;
            var failed = Label(chosen, outDir, ReadResult(outDir, "failed") ?? ReadResult(outDir, "current")) ?? detected ?? buildpack ?? "chosen";
            if (state.OOMKilled)
                throw new StagingException($"The {failed} buildpack ran out of memory (staging limit {options.MemoryBytes / (1024 * 1024)} MB) and was stopped.");
            switch (exitCode)
            {
                case 0:
                    break;
                case 10 when chosen.Count > 0:
                    throw new StagingException($"The {failed} buildpack does not apply to this app: its bin/detect did not recognise it.");
                case 10:
                    throw new StagingException("No buildpack detected this app: add a package.json, requirements.txt, app.py, index.html or Procfile, or choose a buildpack with `paas buildpacks:set`.");
                case 11:
                    throw new StagingException($"The {failed} buildpack's compile step failed (see its output above).");
                case 12:
                    throw new StagingException($"The {failed} buildpack's release step failed (see its output above).");
                default:
                    throw new StagingException($"Staging failed with exit code {exitCode}.");
            }

            var release = await ReadReleasesAsync(chosen, outDir, detected, output);
            var names = chosen.Count > 0 ? string.Join(",", chosen) : buildpack ?? "";

            await output("-----> Building image");
            var image = ImageName(job.App);
            var tag = "v" + job.Release.ToString(CultureInfo.InvariantCulture);
            await docker.Images.CommitContainerChangesAsync(new CommitContainerChangesParameters
            {
                ContainerID = created.ID,
                RepositoryName = image,
                Tag = tag,
                Comment = $"Paas release {tag} of {job.App}",
                Config = new Config
                {
                    User = AppUser,
                    WorkingDir = "/app",
                    Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/app", "STACK=paas-bookworm"],
                    Labels = new Dictionary<string, string>
                    {
                        [ContainerLabels.Platform] = options.PlatformId,
                        [ContainerLabels.App] = job.App,
                        [ContainerLabels.Release] = job.Release.ToString(CultureInfo.InvariantCulture),
                    },
                },
            }, cancellationToken);
            return new StagingResult($"{image}:{tag}", names, detected ?? names, release);
        }
        finally
        {
            // Staging containers never outlive their push, whatever happened.
            try
            {
                await docker.Containers.RemoveContainerAsync(created.ID, new ContainerRemoveParameters { Force = true }, CancellationToken.None);
            }
            catch (DockerContainerNotFoundException)
            {
            }
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    public static string ImageName(string app) => "paas/app-" + app;

    /// <summary>How a buildpack is named to the pusher: as they chose it (a name or URL), or as its detect named itself.</summary>
    private static string? Label(IReadOnlyList<StagedBuildpack> chosen, string outDir, string? index)
    {
        if (!int.TryParse(index, out var i))
            return null;
        if (i >= 0 && i < chosen.Count)
            return chosen[i].Text;
        var detected = ReadResult(outDir, "detected")?.Split(", ");
        return detected is not null && i >= 0 && i < detected.Length ? detected[i] : null;
    }

    /// <summary>
    /// Parses each buildpack's bin/release output, naming the buildpack whose YAML is bad, and merges them:
    /// process types and config vars of a later buildpack win over an earlier one's (the last buildpack is the app's primary).
    /// </summary>
    private static async Task<BuildpackRelease> ReadReleasesAsync(IReadOnlyList<StagedBuildpack> chosen, string outDir, string? detected, Func<string, Task> output)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; ReadResult(outDir, $"release.{i}.yml") is { } yaml; i++)
        {
            var label = Label(chosen, outDir, i.ToString(CultureInfo.InvariantCulture)) ?? detected ?? "chosen";
            BuildpackRelease release;
            try
            {
                release = BuildpackRelease.Parse(yaml);
            }
            catch (FormatException e)
            {
                throw new StagingException($"The {label} buildpack's {e.Message.TrimEnd('.')}.");
            }
            if (yaml.Split('\n').Any(l => l.StartsWith("addons:", StringComparison.Ordinal) && l.Trim() is not ("addons:" or "addons: []")))
                await output($"       Note: the {label} buildpack asks for addons; Paas has no addons, so they are ignored.");
            foreach (var (k, v) in release.DefaultProcessTypes)
                types[k] = v;
            foreach (var (k, v) in release.ConfigVars)
                config[k] = v;
        }
        return new BuildpackRelease(types, config);
    }

    private async Task KillAsync(string containerId)
    {
        try
        {
            await docker.Containers.KillContainerAsync(containerId, new ContainerKillParameters { Signal = "SIGKILL" }, CancellationToken.None);
        }
        catch (DockerApiException)
        {
            // Already gone or stopped: the finally removes it either way.
        }
    }

    private async Task CopySourceAsync(string containerId, string sourceTarPath, CancellationToken cancellationToken)
    {
        await using var tar = File.OpenRead(sourceTarPath);
        await docker.Containers.ExtractArchiveToContainerAsync(containerId, new ContainerPathStatParameters { Path = "/app" }, tar, cancellationToken);
    }

    /// <summary>Forwards the build's output line by line, up to the output cap.</summary>
    private static async Task PumpLinesAsync(MultiplexedStream stream, Func<string, Task> output, long limit, CancellationToken cancellationToken)
    {
        long forwarded = 0;
        var capped = false;
        async Task Emit(string text)
        {
            if (capped)
                return;
            forwarded += text.Length + 1;
            if (forwarded > limit)
            {
                capped = true;
                await output($" !     The build printed more than {limit / (1024 * 1024)} MB of output; the rest is not shown.");
                return;
            }
            await output(text);
        }
        await ContainerOutput.ReadLinesAsync(stream, Emit, cancellationToken);
    }

    private static string? ReadResult(string outDir, string name)
    {
        var path = Path.Combine(outDir, name);
        if (!File.Exists(path) || new FileInfo(path).LinkTarget is not null)
            return null;
        var text = File.ReadAllText(path);
        return name.EndsWith(".yml", StringComparison.Ordinal) ? text : text.Trim();
    }

    /// <summary>The staging container runs as the app user, so the directories it writes must be theirs.</summary>
    private static void ChownToAppUser(string path) => FileOwner.Give(path, AppUid);
}
