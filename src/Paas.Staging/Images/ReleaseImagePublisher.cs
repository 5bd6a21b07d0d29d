using Docker.DotNet;
using Docker.DotNet.Models;

namespace Paas.Staging.Images;

/// <summary>
/// Pushes a staged release image to the platform's registry (a Docker Distribution server), so cells on
/// other hosts can pull it, and returns its digest reference: cells pull and run exactly that build, never
/// a tag that could move. The stack layer is already in the registry after the first push (and the engine
/// skips layers the registry has), so a release moves only its app layer.
/// </summary>
public sealed class ReleaseImagePublisher(IDockerClient docker, Paas.Core.Images.RegistryAccess registry)
{
    public string Registry => registry.Address;

    /// <summary>The registry reference (`REGISTRY/paas/app-APP@sha256:…`) of <paramref name="localImage"/> (`paas/app-APP:vN`).</summary>
    public async Task<string> PushAsync(string localImage, Func<string, Task> output, CancellationToken cancellationToken)
    {
        var colon = localImage.LastIndexOf(':');
        var repository = $"{Registry}/{localImage[..colon]}";
        var tag = localImage[(colon + 1)..];
        await output($"-----> Pushing the image to the registry {Registry}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var progress = new PushProgress();
        try
        {
            await docker.Images.TagImageAsync(localImage, new ImageTagParameters { RepositoryName = repository, Tag = tag, Force = true }, cancellationToken);
            await docker.Images.PushImageAsync(repository, new ImagePushParameters { Tag = tag }, new AuthConfig { ServerAddress = registry.Address, Username = registry.Username, Password = registry.Password }, progress, cancellationToken);
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException)
        {
            throw new StagingException($"Pushing the image to the registry {Registry} failed: {FirstLine(e is DockerApiException api ? api.ResponseBody ?? api.Message : e.Message)}.");
        }
        if (progress.Error is { } error)
            throw new StagingException($"Pushing the image to the registry {Registry} failed: {error}.");
        var inspected = await docker.Images.InspectImageAsync($"{repository}:{tag}", cancellationToken);
        var digest = inspected.RepoDigests?.FirstOrDefault(d => d.StartsWith(repository + "@", StringComparison.Ordinal))
            ?? throw new StagingException($"The registry {Registry} took the image but the engine reported no digest for it.");
        await output($"       Pushed {progress.Pushed} layer(s), {progress.Existing} already there, in {clock.Elapsed.TotalSeconds:0.0} s");
        return digest;
    }

    private static string FirstLine(string text) => Paas.Core.Images.EngineError.Reason(text);

    /// <summary>Push messages: the first error (reported in the stream, not as an HTTP status) and layer counts.</summary>
    private sealed class PushProgress : IProgress<JSONMessage>
    {
        private readonly object _gate = new();

        public string? Error { get; private set; }

        public int Pushed { get; private set; }

        public int Existing { get; private set; }

        public void Report(JSONMessage value)
        {
            lock (_gate)
            {
                if (Error is null && (value.Error?.Message ?? value.ErrorMessage) is { Length: > 0 } error)
                    Error = FirstLine(error);
                if (value.Status == "Pushed")
                    Pushed++;
                else if (value.Status == "Layer already exists")
                    Existing++;
            }
        }
    }
}
