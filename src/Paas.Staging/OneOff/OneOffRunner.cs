using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.Core.Instances;
using Paas.Core.Runs;

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
        var created = await docker.Containers.CreateContainerAsync(await ParametersAsync(app, image, kind, command, environment, memoryBytes, tty: null), cancellationToken);
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

    /// <summary>
    /// Like <see cref="RunAsync"/>, with a terminal: the container gets a TTY (TERM=<paramref name="term"/>) of the
    /// user's size, <paramref name="read"/>'s keystrokes reach its stdin (Ctrl-C is a byte the TTY turns into SIGINT),
    /// its resizes reach the engine, and the TTY's bytes go to <paramref name="write"/> as they come. When
    /// <paramref name="read"/> ends (the user went away) before the command, the container is removed and the
    /// run is cancelled.
    /// </summary>
    public async Task<OneOffResult> RunInteractiveAsync(string app, string image, string kind, string command, IReadOnlyDictionary<string, string> environment,
        long memoryBytes, TimeSpan timeLimit, string term, int columns, int rows, Func<CancellationToken, Task<TerminalInput?>> read,
        Func<ArraySegment<byte>, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        var created = await docker.Containers.CreateContainerAsync(await ParametersAsync(app, image, kind, command, environment, memoryBytes, tty: term), cancellationToken);
        using var gone = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(gone.Token);
            limit.CancelAfter(timeLimit);
            try
            {
                using var stream = await docker.Containers.AttachContainerAsync(created.ID, true,
                    new ContainerAttachParameters { Stream = true, Stdin = true, Stdout = true, Stderr = true }, limit.Token);
                // A read blocked on a quiet container does not watch the token: closing the stream ends it.
                using var unblock = limit.Token.Register(stream.Dispose);
                await docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), limit.Token);
                await ResizeAsync(created.ID, columns, rows, limit.Token);
                var input = Task.Run(async () =>
                {
                    try
                    {
                        while (await read(limit.Token) is { } typed)
                        {
                            if (typed.Bytes is { } bytes)
                                await stream.WriteAsync(bytes, 0, bytes.Length, limit.Token);
                            else
                                await ResizeAsync(created.ID, typed.Columns, typed.Rows, limit.Token);
                        }
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                    }
                    // The user's side closed: nobody is left to read the output or type `exit`.
                    gone.Cancel();
                }, CancellationToken.None);
                var buffer = new byte[16 * 1024];
                while (true)
                {
                    var chunk = await stream.ReadOutputAsync(buffer, 0, buffer.Length, limit.Token);
                    if (chunk.EOF)
                        break;
                    await write(new ArraySegment<byte>(buffer, 0, chunk.Count), limit.Token);
                }
                var exit = (await docker.Containers.WaitContainerAsync(created.ID, limit.Token)).StatusCode;
                var state = (await docker.Containers.InspectContainerAsync(created.ID, cancellationToken)).State;
                return new OneOffResult(exit, TimedOut: false, state.OOMKilled);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException && !gone.IsCancellationRequested)
            {
                return new OneOffResult(-1, TimedOut: true, OutOfMemory: false);
            }
            catch (Exception e) when (e is ObjectDisposedException or IOException)
            {
                throw new OperationCanceledException("The terminal went away.", e, gone.Token);
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

    private async Task ResizeAsync(string id, int columns, int rows, CancellationToken ct)
    {
        if (columns <= 0 || rows <= 0)
            return;
        try
        {
            await docker.Containers.ResizeContainerTtyAsync(id, new ContainerResizeParameters { Width = columns, Height = rows }, ct);
        }
        catch (DockerApiException)
        {
            // It exited between the keystroke and the resize: nothing left to size.
        }
    }

    /// <param name="tty">TERM for a container with a terminal and open stdin; null for output only.</param>
    private async Task<CreateContainerParameters> ParametersAsync(string app, string image, string kind, string command, IReadOnlyDictionary<string, string> environment,
        long memoryBytes, string? tty)
    {
        var env = environment.Select(kv => $"{kv.Key}={kv.Value}").ToList();
        env.Add($"DYNO={kind}.1");
        if (tty is not null)
            env.Add($"TERM={tty}");
        return new CreateContainerParameters
        {
            Image = image,
            User = "1000:1000",
            WorkingDir = "/app",
            Env = env,
            Tty = tty is not null,
            OpenStdin = tty is not null,
            AttachStdin = tty is not null,
            StdinOnce = tty is not null,
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
        };
    }
}

public sealed record OneOffResult(long ExitCode, bool TimedOut, bool OutOfMemory)
{
    public bool Succeeded => !TimedOut && !OutOfMemory && ExitCode == 0;
}
