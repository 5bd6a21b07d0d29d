using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.Core.Instances;

namespace Paas.Staging.OneOff;

/// <summary>
/// Runs one command to completion in a throwaway container of a release image, as Heroku runs the release
/// phase and `scripts.postdeploy`: the app user, the release's config, `.profile.d` sourced first, output
/// streamed line by line, a time limit, and the container always removed.
/// </summary>
/// <param name="cell">The cell it runs on, labelled on the container so that cell's agent can remove it if it died mid-run.</param>
public sealed class OneOffRunner(IDockerClient docker, string platformId, string cell = "")
{
    /// <summary>Deploy output indents a command's lines under its `-----> ` heading; `paas run` passes "" to get them as printed.</summary>
    public const string IndentedLines = "       ";

    public async Task<OneOffResult> RunAsync(string app, string image, string kind, string command, IReadOnlyDictionary<string, string> environment,
        long memoryBytes, TimeSpan timeLimit, Func<string, Task> output, CancellationToken cancellationToken, string linePrefix = IndentedLines)
    {
        var env = environment.Select(kv => $"{kv.Key}={kv.Value}").ToList();
        env.Add($"DYNO={kind}.1");
        var created = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = image,
            User = "1000:1000",
            WorkingDir = "/app",
            Env = env,
            // No `exec`: a command list (`migrate; check`) must end with its own last exit code.
            Cmd = ["/bin/bash", "-c", "for f in /app/.profile.d/*.sh; do [ -r \"$f\" ] && . \"$f\"; done\n" + command],
            Labels = new Dictionary<string, string>
            {
                [ContainerLabels.Platform] = platformId,
                [ContainerLabels.Role] = kind,
                [ContainerLabels.App] = app,
                [ContainerLabels.Cell] = cell,
            },
            HostConfig = new HostConfig
            {
                NetworkMode = await Containers.IsolatedNetworkSetup.EnsureAsync(docker),
                Memory = memoryBytes,
                MemorySwap = memoryBytes,
                PidsLimit = 512,
                CapDrop = ["ALL"],
                SecurityOpt = ["no-new-privileges"],
                Init = true,
            },
        }, cancellationToken);
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeLimit);
            try
            {
                using var stream = await docker.Containers.AttachContainerAsync(created.ID, false, new ContainerAttachParameters { Stream = true, Stdout = true, Stderr = true }, limit.Token);
                await docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), limit.Token);
                await ContainerOutput.ReadLinesAsync(stream, line => output(linePrefix + line), limit.Token);
                var exit = (await docker.Containers.WaitContainerAsync(created.ID, limit.Token)).StatusCode;
                var state = (await docker.Containers.InspectContainerAsync(created.ID, cancellationToken)).State;
                return new OneOffResult(exit, TimedOut: false, state.OOMKilled);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return new OneOffResult(-1, TimedOut: true, OutOfMemory: false);
            }
        }
        finally
        {
            try
            {
                await docker.Containers.RemoveContainerAsync(created.ID, new ContainerRemoveParameters { Force = true }, CancellationToken.None);
            }
            catch (DockerContainerNotFoundException)
            {
            }
        }
    }
}

public sealed record OneOffResult(long ExitCode, bool TimedOut, bool OutOfMemory)
{
    public bool Succeeded => !TimedOut && !OutOfMemory && ExitCode == 0;
}
