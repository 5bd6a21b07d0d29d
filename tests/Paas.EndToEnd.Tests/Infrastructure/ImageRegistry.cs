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

    private ImageRegistry(PlatformProcess process, string directory, string hostAddress, int port, string password)
    {
        _process = process;
        _port = port;
        Directory = directory;
        Address = $"{hostAddress}:{port}";
        LoopbackAddress = $"127.0.0.1:{port}";
        Credentials = new AuthConfig { Username = Username, Password = password };
    }

    public const string Username = "paas";

    /// <summary>ADDR:PORT as hosts reach it (give it to <see cref="TestNetwork.AddHostAsync"/> as an insecure registry).</summary>
    public string Address { get; }

    /// <summary>127.0.0.1:PORT, as the main host's engine reaches it.</summary>
    public string LoopbackAddress { get; }

    public AuthConfig Credentials { get; }

    /// <summary>The registry's configuration, password file and storage.</summary>
    public string Directory { get; }

    public string Output => _process.Output;

    /// <param name="hostAddress">The main host's address as hosts see it, normally <see cref="TestNetwork.Gateway"/>.</param>
    public static async Task<ImageRegistry> StartAsync(string hostAddress)
    {
        Requirements.EnsureTestHostTools();
        var directory = OwnedDirectory.Create("paas-registry-");
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "data"));
        var password = Guid.NewGuid().ToString("N");
        // bcrypt (-B), the only hash Distribution accepts; the password on stdin (-i), not on a command line.
        var hash = await ProcessRunner.RunAsync("htpasswd", ["-niB", Username], null, new Dictionary<string, string>(), TimeSpan.FromSeconds(30), password);
        if (hash.ExitCode != 0)
            throw new InvalidOperationException($"htpasswd failed: {hash}");
        await File.WriteAllTextAsync(Path.Combine(directory, "htpasswd"), hash.Stdout);
        var port = FreePort.Next();
        var config = Path.Combine(directory, "config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Path.Combine(directory, "data")}
              delete:
                enabled: true
            http:
              addr: 0.0.0.0:{port}
              secret: {Guid.NewGuid():N}
            auth:
              htpasswd:
                realm: paas-test-registry
                path: {Path.Combine(directory, "htpasswd")}
            """);
        var registry = new ImageRegistry(Serve(directory), directory, hostAddress, port, password);
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

    private static PlatformProcess Serve(string directory)
    {
        var process = new PlatformProcess(ProcessRunner.StartInfo("docker-registry", ["serve", Path.Combine(directory, "config.yml")], null, new Dictionary<string, string>()));
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
        _process = Serve(Directory);
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
