using Docker.DotNet;
using Docker.DotNet.Models;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A Docker Distribution registry (Debian's docker-registry) for the tests, with its own configuration, storage
/// and password, gone when disposed. It listens on every address of the main host on a free port, and answers
/// only with the credentials in <see cref="Credentials"/> (htpasswd, bcrypt): Distribution's htpasswd
/// authentication covers pulls as well as pushes, so hosts pull with them too.
/// <para>
/// It has two names for one store: the main engine pushes to <see cref="LoopbackAddress"/> (dockerd trusts plain
/// HTTP only for 127.0.0.0/8 unless configured, and the shared engine is not reconfigured), and hosts pull from
/// <see cref="Address"/> (a <see cref="TestNetwork"/>'s gateway, which their dockerds trust). An image pushed as
/// 127.0.0.1:P/app@sha256:X is pulled as 10.213.R.1:P/app@sha256:X: the repository and digest are the same.
/// </para>
/// </summary>
public sealed class ImageRegistry : IAsyncDisposable
{
    private PlatformProcess _process;
    private readonly int _port;
    private readonly string _bind;

    private ImageRegistry(PlatformProcess process, string directory, string hostAddress, string bind, int port)
    {
        _process = process;
        _port = port;
        _bind = bind;
        Directory = directory;
        Address = $"{hostAddress}:{port}";
        LoopbackAddress = $"127.0.0.1:{port}";
    }

    public const string Username = "paas";

    /// <summary>ADDR:PORT as hosts reach it (give it to <see cref="TestNetwork.AddHostAsync"/> as an insecure registry).</summary>
    public string Address { get; }

    /// <summary>127.0.0.1:PORT, as the main host's engine reaches it.</summary>
    public string LoopbackAddress { get; }

    /// <summary>The credentials deploy/registry/credentials.sh made at the first start (and keeps across restarts).</summary>
    public AuthConfig Credentials => new()
    {
        Username = File.ReadAllText(Path.Combine(Directory, "registry", "username")).Trim(),
        Password = File.ReadAllText(Path.Combine(Directory, "registry", "password")).Trim(),
    };

    /// <summary>The test's directory; the registry's configuration, credentials and storage are in its registry/.</summary>
    public string Directory { get; }

    public string Output => _process.Output;

    /// <param name="hostAddress">The main host's address as hosts see it, normally <see cref="TestNetwork.Gateway"/>.</param>
    /// <param name="bind">The address it listens on: every one by default (hosts reach it at the gateway), or loopback.</param>
    /// <remarks>
    /// Started by the platform's own deploy/registry/start.sh (what `make run` and paas-registry.service run), so
    /// the configuration, credentials and garbage collection under test are the ones operators get.
    /// </remarks>
    public static async Task<ImageRegistry> StartAsync(string hostAddress, string bind = "0.0.0.0")
    {
        Requirements.EnsureTestHostTools();
        var directory = OwnedDirectory.Create("paas-registry-");
        var port = FreePort.Next();
        var registry = new ImageRegistry(Serve(directory, bind, port), directory, hostAddress, bind, port);
        try
        {
            await registry.WaitReadyAsync();
        }
        catch
        {
            await registry.DisposeAsync();
            throw;
        }
        return registry;
    }

    /// <summary>deploy/registry/start.sh execs the server, so the process started is the server (its pid is recorded for clean-up).</summary>
    private static PlatformProcess Serve(string directory, string bind, int port)
    {
        var script = Path.Combine(RepoPaths.Root, "deploy", "registry", "start.sh");
        var process = new PlatformProcess(ProcessRunner.StartInfo(script, [bind, port.ToString(), Path.Combine(directory, "registry")], null, new Dictionary<string, string>()));
        OwnedDirectory.RecordServer(directory, process.Id);
        return process;
    }

    // The root answers 200 without credentials once the registry serves.
    private Task WaitReadyAsync() => _process.WaitReadyAsync($"http://127.0.0.1:{_port}/", TimeSpan.FromSeconds(30));

    /// <summary>Stops the server (SIGKILL, as a crashed registry host would vanish); its storage, port and password stay for <see cref="StartAgainAsync"/>.</summary>
    public void Stop() => _process.Kill();

    /// <summary>Serves again, on the same port and storage, with the same credentials.</summary>
    public async Task StartAgainAsync()
    {
        _process.Dispose();
        _process = Serve(Directory, _bind, _port);
        await WaitReadyAsync();
    }

    /// <summary>
    /// Pushes an image of <paramref name="engine"/> (the main host's) as <paramref name="repository"/>:<paramref name="tag"/>
    /// and returns its digest (sha256:…); the registry's tag is removed from the engine afterwards.
    /// </summary>
    public async Task<string> PushAsync(IDockerClient engine, string image, string repository, string tag)
    {
        var name = $"{LoopbackAddress}/{repository}";
        await engine.Images.TagImageAsync(image, new ImageTagParameters { RepositoryName = name, Tag = tag });
        try
        {
            var progress = new DockerProgress();
            await engine.Images.PushImageAsync(name, new ImagePushParameters { Tag = tag }, Credentials, progress);
            progress.ThrowIfFailed($"Pushing {image} to {name}:{tag}");
            var pushed = await engine.Images.InspectImageAsync($"{name}:{tag}");
            var digest = pushed.RepoDigests.Select(d => d.Split('@')).FirstOrDefault(d => d[0] == name)?[1];
            return digest ?? throw new InvalidOperationException($"The engine reports no digest for {name}:{tag} after its push.");
        }
        finally
        {
            await engine.Images.DeleteImageAsync($"{name}:{tag}", new ImageDeleteParameters { NoPrune = true });
        }
    }

    /// <summary>How a host names an image in this registry: ADDR:PORT/repository@digest.</summary>
    public string Reference(string repository, string digest) => $"{Address}/{repository}@{digest}";

    public ValueTask DisposeAsync()
    {
        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
