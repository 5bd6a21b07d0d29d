using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.Core.Instances;
using Paas.Core.Releases;
using Paas.Staging.Remote;

namespace Paas.Staging.Dockerfiles;

/// <summary>
/// Builds a pushed repository's own Dockerfile with the engine's builder, with the pushed tree as the build
/// context, under the staging limits (time, memory, output). The engine's layer cache makes a second push with
/// the same early steps quick. The image is then checked against the platform's run contract: a Dockerfile
/// `USER` is kept, `USER root` is refused unless the operator allows it, and an image with no USER gets the
/// platform's unprivileged user (one more layer-less build step), so no app runs as root by default.
/// </summary>
public sealed class DockerfileStager(IDockerClient docker, StagingOptions options)
{
    /// <summary>The uid buildpack apps run as; images with no USER run as it too.</summary>
    public const string AppUser = "1000:1000";

    /// <summary>The builder a job names for a Dockerfile build (<see cref="StagingJob.Builder"/>).</summary>
    public const string Builder = "dockerfile";

    public async Task<StagingResult> StageAsync(StagingJob job, string sourceTarPath, Func<string, Task> output, CancellationToken cancellationToken)
    {
        await output(job.Image is null ? "-----> Building the Dockerfile" : $"-----> Pulling {job.Image}");
        var image = Buildpacks.BuildpackStager.ImageName(job.App);
        var tag = "v" + job.Release.ToString(CultureInfo.InvariantCulture);
        var built = await BuildAsync(job, sourceTarPath, $"{image}:{tag}-build", output, cancellationToken);
        var inspected = await docker.Images.InspectImageAsync(built, cancellationToken);
        var user = inspected.Config?.User ?? "";
        if (IsRoot(user) && !job.AllowRoot)
            throw new StagingException(job.Image is null
                ? $"The Dockerfile sets USER {user}, and apps do not run as root here: remove that line or name an unprivileged user (an operator may allow root with PAAS_DOCKERFILE_ALLOW_ROOT=true)."
                : $"The image {job.Image} runs as USER {user}, and apps do not run as root here: rebuild it with an unprivileged USER (an operator may allow root with PAAS_DOCKERFILE_ALLOW_ROOT=true).");
        var port = ExposedPort(inspected.Config?.ExposedPorts);
        var command = Describe(inspected.Config?.Entrypoint, inspected.Config?.Cmd);
        if (command.Length == 0)
            throw new StagingException(job.Image is null
                ? "The Dockerfile defines no CMD or ENTRYPOINT, so there is nothing to run: add a CMD line."
                : $"The image {job.Image} defines no CMD or ENTRYPOINT, so there is nothing to run.");
        // What the release records of a prebuilt image: the digest it was pulled by, whatever its tag points to later.
        var pulled = job.Image is null ? null
            : (await docker.Images.InspectImageAsync(job.Image, cancellationToken)).RepoDigests?.FirstOrDefault() ?? job.Image;

        // The release image: the built one with the platform's labels (and its user when it names none).
        // The run contract travels in the image's labels, so every cell that pulls it by digest starts it alike.
        var final = $"{image}:{tag}";
        var wrapper = new StringBuilder($"FROM {built}\n");
        if (user.Length == 0)
            wrapper.Append("USER ").Append(AppUser).Append('\n');
        await BuildWrapperAsync(wrapper.ToString(), final, port, job, cancellationToken);
        await RemoveQuietlyAsync($"{image}:{tag}-build");
        await output($"-----> Image built: runs `{command}` as {(user.Length == 0 ? $"uid {AppUser} (the Dockerfile names no USER)" : $"USER {user}")}, port {port}{(port == DockerImageContract.DefaultPort ? " ($PORT)" : " (EXPOSE)")}");

        var types = new Dictionary<string, string> { ["web"] = command };
        if (pulled is not null)
            await output($"-----> Pulled {pulled}");
        return new StagingResult(final, pulled is null ? Builder : "image", pulled ?? "Dockerfile", new BuildpackRelease(types, new Dictionary<string, string>()));
    }

    private async Task<string> BuildAsync(StagingJob job, string sourceTarPath, string tag, Func<string, Task> output, CancellationToken cancellationToken)
    {
        using var timeLimit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeLimit.CancelAfter(options.TimeLimit);
        var lines = Channel.CreateUnbounded<JSONMessage>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        string? step = null;
        string? error = null;
        var forwarded = 0L;
        var capped = false;
        var pump = Task.Run(async () =>
        {
            await foreach (var message in lines.Reader.ReadAllAsync(CancellationToken.None))
            {
                var failed = message.Error?.Message ?? message.ErrorMessage;
                if (!string.IsNullOrWhiteSpace(failed))
                {
                    error = failed.Trim();
                    continue;
                }
                foreach (var line in (message.Stream ?? "").Split('\n'))
                {
                    var text = line.TrimEnd('\r');
                    if (text.Length == 0)
                        continue;
                    if (text.StartsWith("Step ", StringComparison.Ordinal))
                        step = text["Step ".Length..].Split(" : ", 2) is [var number, var instruction] ? $"{number} ({instruction})" : text["Step ".Length..];
                    forwarded += text.Length + 1;
                    if (forwarded > options.OutputLimitBytes)
                    {
                        if (!capped)
                            await output($" !     The build printed more than {options.OutputLimitBytes / (1024 * 1024)} MB of output; the rest is not shown.");
                        capped = true;
                        continue;
                    }
                    await output("       " + text);
                }
            }
        }, CancellationToken.None);

        await using var context = File.OpenRead(sourceTarPath);
        try
        {
            await docker.Images.BuildImageFromDockerfileAsync(new ImageBuildParameters
            {
                Tags = [tag],
                Dockerfile = "Dockerfile",
                // An image deploy always asks the registry: the tag may have moved, and a copy a cell already holds
                // (another app's pull) must not stand in for credentials this deploy does not have.
                Pull = job.Image is null ? null : "1",
                BuildArgs = job.BuildArgs?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? new Dictionary<string, string>(),
                Memory = options.MemoryBytes,
                MemorySwap = options.MemoryBytes,
                Remove = true,
                ForceRemove = true,
                // No labels here: the engine would add them as steps of the user's Dockerfile, renumbering its steps.
            }, context, Credentials(job), new Dictionary<string, string>(), new SyncProgress(lines.Writer), timeLimit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            lines.Writer.TryComplete();
            await pump;
            // Closing the request stops the engine's build (and its RUN container) at once.
            throw new StagingException($"The Dockerfile build was still running{(step is null ? "" : $" at step {step}")} when it reached the staging limit of {StagingOptions.Describe(options.TimeLimit)}, so it was stopped.");
        }
        catch (DockerApiException e)
        {
            lines.Writer.TryComplete();
            await pump;
            throw new StagingException(job.Image is null
                ? $"The Dockerfile build failed: {Paas.Core.Images.EngineError.Reason(e.ResponseBody ?? e.Message)}."
                : $"Could not pull {job.Image}: {Paas.Core.Images.EngineError.Reason(e.ResponseBody ?? e.Message)}.");
        }
        lines.Writer.TryComplete();
        await pump;
        if (error is not null)
        {
            if (error.Contains("memory", StringComparison.OrdinalIgnoreCase) || error.Contains("code: 137", StringComparison.Ordinal))
                error += $" (the staging memory limit is {options.MemoryBytes / (1024 * 1024)} MB)";
            if (job.Image is not null)
                throw new StagingException($"Could not pull {job.Image}: {error.TrimEnd('.')}.");
            throw new StagingException(step is null
                ? $"The Dockerfile build failed: {error.TrimEnd('.')}."
                : $"The Dockerfile build failed at step {step}: {error.TrimEnd('.')}.");
        }
        return tag;
    }

    private async Task BuildWrapperAsync(string dockerfile, string tag, int port, StagingJob job, CancellationToken cancellationToken)
    {
        using var tar = new MemoryStream();
        await using (var writer = new System.Formats.Tar.TarWriter(tar, System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: true))
        {
            await writer.WriteEntryAsync(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "Dockerfile")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(dockerfile)),
            }, cancellationToken);
        }
        tar.Position = 0;
        string? error = null;
        await docker.Images.BuildImageFromDockerfileAsync(new ImageBuildParameters
        {
            Tags = [tag],
            Dockerfile = "Dockerfile",
            Remove = true,
            ForceRemove = true,
            Labels = new Dictionary<string, string>
            {
                [ContainerLabels.Platform] = options.PlatformId,
                [ContainerLabels.App] = job.App,
                [ContainerLabels.Release] = job.Release.ToString(CultureInfo.InvariantCulture),
                [DockerImageContract.BuilderLabel] = Builder,
                [DockerImageContract.PortLabel] = port.ToString(CultureInfo.InvariantCulture),
            },
        }, tar, [], new Dictionary<string, string>(), new Progress(m => error ??= m.Error?.Message ?? m.ErrorMessage), cancellationToken);
        if (error is not null)
            throw new StagingException($"Could not label the built image: {error.Trim().TrimEnd('.')}.");
    }

    /// <summary>The registry credentials given with an image deploy, for the registry its reference names.</summary>
    private static IEnumerable<AuthConfig> Credentials(StagingJob job)
    {
        if (job.Image is null || job.RegistryUsername is null)
            return [];
        var registry = ImageReferences.Registry(job.Image);
        var server = registry == ImageReferences.DockerHub ? "https://index.docker.io/v1/" : registry;
        return [new AuthConfig { ServerAddress = server, Username = job.RegistryUsername, Password = job.RegistryPassword ?? "" }];
    }

    private async Task RemoveQuietlyAsync(string image)
    {
        try
        {
            // Untags only: the release image shares every layer with it.
            await docker.Images.DeleteImageAsync(image, new ImageDeleteParameters(), CancellationToken.None);
        }
        catch (DockerApiException)
        {
        }
    }

    /// <summary>root, 0, root:group, 0:group: a user that is root whatever its group.</summary>
    public static bool IsRoot(string user)
    {
        var name = user.Split(':')[0].Trim();
        return name is "root" or "0";
    }

    /// <summary>The one TCP port the Dockerfile EXPOSEs; none or several: $PORT (the platform's default).</summary>
    public static int ExposedPort(IDictionary<string, EmptyStruct>? exposed)
    {
        var tcp = (exposed?.Keys ?? []).Where(k => !k.EndsWith("/udp", StringComparison.Ordinal))
            .Select(k => int.TryParse(k.Split('/')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 0)
            .Where(p => p is > 0 and < 65536).Distinct().ToList();
        return tcp.Count == 1 ? tcp[0] : DockerImageContract.DefaultPort;
    }

    /// <summary>ENTRYPOINT then CMD, as a reader would type them.</summary>
    public static string Describe(IList<string>? entrypoint, IList<string>? cmd) =>
        string.Join(' ', (entrypoint ?? []).Concat(cmd ?? []).Select(a => a.Contains(' ') ? $"\"{a}\"" : a));

    /// <summary>
    /// Delivers build messages in order on the caller's thread (the engine client calls Report as it reads):
    /// <see cref="Progress{T}"/> would post them to the thread pool, out of order.
    /// </summary>
    private sealed class SyncProgress(ChannelWriter<JSONMessage> writer) : IProgress<JSONMessage>
    {
        public void Report(JSONMessage value) => writer.TryWrite(value);
    }

    private sealed class Progress(Action<JSONMessage> report) : IProgress<JSONMessage>
    {
        public void Report(JSONMessage value) => report(value);
    }
}
