using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.Cell.Agent;
using Paas.Cell.Docker;
using Paas.Staging;
using Paas.Staging.Buildpacks;
using Paas.Staging.Dockerfiles;
using Paas.Staging.Images;
using Paas.Staging.OneOff;
using Paas.Core.Runs;
using Paas.Staging.Remote;

namespace Paas.Cell.Tasks;

/// <summary>
/// Runs the controller's tasks on this cell's engine: staging a push (then pushing the image to the registry,
/// when there is one, so other hosts can pull it: in the background, since instances on this engine need no
/// registry) and one-off commands of a release. The controller chose
/// this cell, fetched the buildpacks and set the limits; this side only runs what it was sent.
/// </summary>
public sealed class TaskRunner(IDockerClient docker, DockerCell cell, CellAgentSettings settings, string platformId, ILogger<TaskRunner> logger)
{
    /// <summary>
    /// Stages the bundle read from <paramref name="body"/> (see <see cref="StagingBundle"/>); throws <see cref="StagingException"/>
    /// with the reason. With a registry, returns as soon as the image is built, with its push to the registry under way
    /// (<c>Push</c>: the digest reference, or a <see cref="StagingException"/> with the reason), its lines on <paramref name="output"/>.
    /// </summary>
    public async Task<(StagedImage Image, Task<string>? Push)> StageAsync(Stream body, Func<string, Task> output, CancellationToken cancellationToken)
    {
        try
        {
            return await StageOnEngineAsync(body, output, cancellationToken);
        }
        catch (Exception e) when (e is StagingException or IOException or DockerApiException && !cancellationToken.IsCancellationRequested)
        {
            // Whatever failed, a full disk is the reason to report: the failure above is only its symptom.
            var full = DiskSpace.IsNoSpace(e) ? settings.DataDirectory : DiskSpace.FirstFull(await StagingDirectoriesAsync());
            if (full is null)
                throw;
            logger.LogWarning("Staging failed on cell {Cell} with {Directory} full: {Error}", cell.Name, full, e.Message);
            throw new StagingException(DiskSpace.CellFull(cell.Name, full));
        }
    }

    /// <summary>Where staging writes on this host: scratch, the build cache and the engine's own storage (image layers).</summary>
    private async Task<string?[]> StagingDirectoriesAsync()
    {
        string? engineRoot = null;
        try
        {
            engineRoot = (await docker.System.GetSystemInfoAsync(CancellationToken.None)).DockerRootDir;
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException or TimeoutException)
        {
        }
        return [Path.Combine(settings.DataDirectory, "tmp"), Path.Combine(settings.DataDirectory, "cache"), engineRoot];
    }

    private async Task<(StagedImage Image, Task<string>? Push)> StageOnEngineAsync(Stream body, Func<string, Task> output, CancellationToken cancellationToken)
    {
        var scratch = Path.Combine(settings.DataDirectory, "tmp", $"bundle-{Guid.NewGuid():N}");
        Directory.CreateDirectory(scratch);
        try
        {
            StagingJob job;
            string sourceTar, builtIns, custom;
            try
            {
                (job, sourceTar, builtIns, custom) = await StagingBundle.ReadAsync(body, scratch, cancellationToken);
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or System.Text.Json.JsonException)
            {
                throw new StagingException($"Cell {cell.Name} could not read the staging request: {e.Message.TrimEnd('.')}.");
            }
            logger.LogInformation("Staging {App} v{Release} on cell {Cell}", job.App, job.Release, cell.Name);
            await output($"-----> Staging on cell {cell.Name}");
            var options = new StagingOptions(settings.StackImage, builtIns, Path.Combine(settings.DataDirectory, "cache"), Path.Combine(settings.DataDirectory, "tmp"), platformId)
            {
                TimeLimit = TimeSpan.FromSeconds(job.TimeLimitSeconds),
                MemoryBytes = job.MemoryBytes,
                OutputLimitBytes = job.OutputLimitBytes,
                Cell = cell.Name,
            };
            StagingResult staged;
            try
            {
                staged = job.Builder == DockerfileStager.Builder
                    ? await new DockerfileStager(docker, options).StageAsync(job, sourceTar, output, cancellationToken)
                    : await new BuildpackStager(docker, options).StageAsync(job, sourceTar, custom, output, cancellationToken);
            }
            catch (DockerImageNotFoundException)
            {
                throw new StagingException($"Cell {cell.Name} has no stack image {settings.StackImage}, so it cannot stage: build or load it on that host (deploy/setup.sh).");
            }
            catch (DockerApiException e)
            {
                throw new StagingException($"Staging on cell {cell.Name} failed: {Paas.Core.Images.EngineError.Reason(e.ResponseBody ?? e.Message)}.");
            }
            // Other hosts pull the release from the registry, by digest; instances on this engine start meanwhile
            // from the image it has, so a single host never waits for the registry round trip.
            var push = settings.Registry is { } registry
                ? Task.Run(() => new ReleaseImagePublisher(docker, registry).PushAsync(staged.Image, output, cancellationToken), CancellationToken.None)
                : null;
            return (new StagedImage(staged.Image, null, staged.Buildpack, staged.DetectedAs,
                staged.Release.DefaultProcessTypes, staged.Release.ConfigVars, Pushing: push is not null), push);
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// Removes this cell's staging and one-off containers: at start-up, any there are were left by an agent that
    /// died mid-task (its controller has already failed that push or run), and would otherwise run on to their limit.
    /// </summary>
    public async Task RemoveLeftoversAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RemoveLeftoversOnceAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // An engine that is away now is reported by /healthz; its leftovers hit their own limits meanwhile.
            logger.LogWarning("Could not look for staging and one-off containers left by an earlier agent: {Error}", e.Message);
        }
    }

    private async Task RemoveLeftoversOnceAsync(CancellationToken cancellationToken)
    {
        var containers = await docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool>
                {
                    [$"{Paas.Core.Instances.ContainerLabels.Platform}={platformId}"] = true,
                    [$"{Paas.Core.Instances.ContainerLabels.Cell}={cell.Name}"] = true,
                },
            },
        }, cancellationToken);
        // Throwaway containers only: instances and add-on servers outlive any agent.
        foreach (var container in containers.Where(c => c.Labels.TryGetValue(Paas.Core.Instances.ContainerLabels.Role, out var role) && role is not ("instance" or "addon")))
        {
            try
            {
                await docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true }, cancellationToken);
                logger.LogInformation("Removed {Role} container {Id} left by an earlier agent", container.Labels[Paas.Core.Instances.ContainerLabels.Role], container.ID[..12]);
            }
            catch (DockerContainerNotFoundException)
            {
            }
        }
    }

    /// <summary>Runs a one-off command of a release whose image is on this engine (the controller prepared it first).</summary>
    public Task<OneOffResult> RunAsync(OneOffJob job, Func<string, Task> output, CancellationToken cancellationToken) =>
        new OneOffRunner(docker, platformId, cell.Name).RunAsync(job.App, cell.Local(job.Image), job.Kind, job.Command, job.Environment,
            job.MemoryBytes, TimeSpan.FromSeconds(job.TimeLimitSeconds), output, cancellationToken, linePrefix: "");

    /// <summary>
    /// An interactive one-off (`paas run` from a terminal) over <paramref name="socket"/> (<see cref="TerminalSession"/>):
    /// the first message is the job with the terminal's size, then keystrokes in and the TTY's bytes out; the last
    /// message is the <see cref="TaskMessage"/> with how it ended ({"ran"} or {"error"}).
    /// </summary>
    public async Task RunInteractiveAsync(System.Net.WebSockets.WebSocket socket, CancellationToken cancellationToken)
    {
        if (await TerminalSession.ReceiveJsonAsync<InteractiveJob>(socket, cancellationToken) is not { Job: { } job } start)
        {
            await TerminalSession.SendJsonAsync(socket, new TaskMessage { Error = "The interactive run did not start with its job." }, cancellationToken);
            return;
        }
        TaskMessage outcome;
        try
        {
            var ran = await new OneOffRunner(docker, platformId, cell.Name).RunInteractiveAsync(job.App, cell.Local(job.Image), job.Kind, job.Command, job.Environment,
                job.MemoryBytes, TimeSpan.FromSeconds(job.TimeLimitSeconds), start.Term, start.Columns, start.Rows,
                ct => TerminalSession.ReadInputAsync(socket, ct),
                (bytes, ct) => socket.SendAsync(bytes, System.Net.WebSockets.WebSocketMessageType.Binary, true, ct), cancellationToken);
            outcome = new TaskMessage { Ran = ran };
        }
        catch (OperationCanceledException)
        {
            logger.LogInformation("Interactive run of {App} ended: its terminal went away", job.App);
            return;
        }
        catch (DockerApiException e)
        {
            logger.LogWarning("An interactive run failed on the engine: {Reason}", e.Message);
            outcome = new TaskMessage { Error = Paas.Core.Images.EngineError.Reason(e.ResponseBody ?? e.Message) };
        }
        await TerminalSession.SendJsonAsync(socket, outcome, cancellationToken);
        await socket.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "", cancellationToken);
    }
}
