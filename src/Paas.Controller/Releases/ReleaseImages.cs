using Paas.Core.Images;

namespace Paas.Controller.Releases;

/// <summary>
/// Whether an old release's image can still run, for a rollback. With a registry, cells pull a release by the
/// digest it records (RegistryImage), wherever they are: the image exists when the registry still has that
/// manifest, even if the controller's own engine never had it (staged on another host) or pruned it. Otherwise,
/// or when the registry lacks it or cannot be reached, the controller's engine must have the release's tag.
/// </summary>
public sealed class ReleaseImages(RegistryClient? registry, Func<string, CancellationToken, Task<IEnumerable<string>>> localTags, ILogger<ReleaseImages> logger)
{
    public async Task<bool> ExistAsync(State.ReleaseRecord release, CancellationToken cancellationToken)
    {
        if (registry is not null && release.RegistryImage is { } pushed && RegistryClient.Parse(pushed) is var (repository, digest))
        {
            try
            {
                if (await registry.DigestAsync(repository, digest, cancellationToken) is not null)
                    return true;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Could not ask the registry for the image of {App} v{Version} ({Reason}); looking in this host's engine", release.App, release.Version, e.Message);
            }
        }
        return (await localTags(release.App, cancellationToken)).Contains(release.Image);
    }
}
