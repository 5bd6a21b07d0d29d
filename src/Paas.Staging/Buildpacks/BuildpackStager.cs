using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.Core.Instances;
using Paas.Core.Releases;

namespace Paas.Staging.Buildpacks;

/// <summary>
/// Runs the Heroku buildpack lifecycle (Lifecycle/stage.sh) in a throwaway container on the stack image,
/// then commits that container's /app as the release image: the stack plus one app layer. Buildpacks,
/// cache and results are bind mounts, so they never end up in the image.
/// </summary>
public sealed class BuildpackStager(IDockerClient docker, StagingOptions options) : IStager
{
    private const string AppUser = "1000:1000";
    private const int AppUid = 1000;

    public async Task<StagingResult> StageAsync(StagingRequest request, Func<string, Task> output, CancellationToken cancellationToken)
    {
        var scratch = Path.Combine(options.ScratchRoot, $"stage-{request.App}-{Guid.NewGuid():N}");
        var outDir = Path.Combine(scratch, "out");
        var envDir = Path.Combine(scratch, "env");
        var cacheDir = Path.Combine(options.CacheRoot, request.App);
        Directory.CreateDirectory(outDir);
        Directory.CreateDirectory(envDir);
        Directory.CreateDirectory(cacheDir);
        foreach (var (name, value) in request.ConfigVars)
            await File.WriteAllTextAsync(Path.Combine(envDir, name), value, cancellationToken);
        foreach (var dir in new[] { outDir, envDir, cacheDir })
            ChownToAppUser(dir);

        var lifecycle = Path.Combine(AppContext.BaseDirectory, "Lifecycle");
        var env = new List<string>
        {
            "HOME=/app",
            "STACK=paas-bookworm",
            $"SOURCE_VERSION={request.SourceVersion}",
            $"APP_NAME={request.App}",
        };
        if (request.Buildpacks is { Count: > 0 } chosen)
            env.Add("PAAS_BUILDPACKS=" + string.Join(',', chosen));

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
                [ContainerLabels.App] = request.App,
            },
            HostConfig = new HostConfig
            {
                Binds =
                [
                    $"{options.BuildpacksDirectory}:/buildpacks:ro",
                    $"{lifecycle}:/lifecycle:ro",
                    $"{cacheDir}:/tmp/cache",
                    $"{envDir}:/tmp/env:ro",
                    $"{outDir}:/tmp/out",
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
            await CopySourceAsync(created.ID, scratch, request, cancellationToken);
            using var timeLimit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeLimit.CancelAfter(options.TimeLimit);
            long exitCode;
            using (var stream = await docker.Containers.AttachContainerAsync(created.ID, false, new ContainerAttachParameters { Stream = true, Stdout = true, Stderr = true }, timeLimit.Token))
            {
                await docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), timeLimit.Token);
                try
                {
                    await PumpLinesAsync(stream, output, timeLimit.Token);
                    exitCode = (await docker.Containers.WaitContainerAsync(created.ID, timeLimit.Token)).StatusCode;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new StagingException($"Staging took longer than its limit of {options.TimeLimit.TotalMinutes:0} minutes and was stopped.");
                }
            }

            var buildpack = ReadResult(outDir, "buildpack");
            var detected = ReadResult(outDir, "detected");
            var state = (await docker.Containers.InspectContainerAsync(created.ID, cancellationToken)).State;
            if (state.OOMKilled)
                throw new StagingException($"Staging ran out of memory (limit {options.MemoryBytes / (1024 * 1024)} MB) and was stopped.");
            switch (exitCode)
            {
                case 0:
                    break;
                case 10:
                    throw new StagingException("No buildpack detected this app: add a package.json, requirements.txt, app.py, index.html or Procfile.");
                case 11:
                    throw new StagingException($"The {detected ?? buildpack ?? "chosen"} buildpack's compile step failed (see its output above).");
                case 12:
                    throw new StagingException($"The {detected ?? buildpack ?? "chosen"} buildpack's release step failed (see its output above).");
                default:
                    throw new StagingException($"Staging failed with exit code {exitCode}.");
            }

            BuildpackRelease release;
            try
            {
                release = BuildpackRelease.Parse(ReadResult(outDir, "release.yml") ?? "");
            }
            catch (FormatException e)
            {
                throw new StagingException($"The {detected ?? buildpack} buildpack's {e.Message}");
            }

            await output("-----> Building image");
            var image = ImageName(request.App);
            var tag = "v" + request.Release.ToString(CultureInfo.InvariantCulture);
            await docker.Images.CommitContainerChangesAsync(new CommitContainerChangesParameters
            {
                ContainerID = created.ID,
                RepositoryName = image,
                Tag = tag,
                Comment = $"Paas release {tag} of {request.App}",
                Config = new Config
                {
                    User = AppUser,
                    WorkingDir = "/app",
                    Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/app", "STACK=paas-bookworm"],
                    Labels = new Dictionary<string, string>
                    {
                        [ContainerLabels.Platform] = options.PlatformId,
                        [ContainerLabels.App] = request.App,
                        [ContainerLabels.Release] = request.Release.ToString(CultureInfo.InvariantCulture),
                    },
                },
            }, cancellationToken);
            return new StagingResult($"{image}:{tag}", buildpack ?? "", detected ?? buildpack ?? "", release);
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

    private async Task CopySourceAsync(string containerId, string scratch, StagingRequest request, CancellationToken cancellationToken)
    {
        // Spooled to disk rather than memory: a push may be large, and the engine wants a plain stream.
        var tarPath = Path.Combine(scratch, "source.tar");
        await using (var file = File.Create(tarPath))
            await request.WriteSourceTar(file, cancellationToken);
        await using var tar = File.OpenRead(tarPath);
        await docker.Containers.ExtractArchiveToContainerAsync(containerId, new ContainerPathStatParameters { Path = "/app" }, tar, cancellationToken);
    }

    /// <summary>Forwards output a line at a time as it arrives, so the pusher sees the build live.</summary>
    private static async Task PumpLinesAsync(MultiplexedStream stream, Func<string, Task> output, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[Encoding.UTF8.GetMaxCharCount(buffer.Length)];
        var line = new StringBuilder();
        while (true)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, cancellationToken);
            if (read.EOF)
                break;
            var count = decoder.GetChars(buffer, 0, read.Count, chars, 0);
            for (var i = 0; i < count; i++)
            {
                var c = chars[i];
                if (c == '\n')
                {
                    await output(line.ToString().TrimEnd('\r'));
                    line.Clear();
                }
                else
                {
                    line.Append(c);
                }
            }
        }
        if (line.Length > 0)
            await output(line.ToString());
    }

    private static string? ReadResult(string outDir, string name)
    {
        var path = Path.Combine(outDir, name);
        if (!File.Exists(path) || new FileInfo(path).LinkTarget is not null)
            return null;
        var text = File.ReadAllText(path);
        return name.EndsWith(".yml", StringComparison.Ordinal) ? text : text.Trim();
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "chown")]
    private static extern int Chown(string path, int owner, int group);

    /// <summary>The staging container runs as the app user, so the directories it writes must be theirs.</summary>
    private static void ChownToAppUser(string path)
    {
        if (Chown(path, AppUid, AppUid) != 0)
            throw new IOException($"Could not give {path} to uid {AppUid} (errno {Marshal.GetLastPInvokeError()}).");
    }
}
