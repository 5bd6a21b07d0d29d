using Paas.Controller.State;
using Paas.Staging;

namespace Paas.Controller.Releases;

/// <summary>
/// Release images whose push to the registry was still under way when staging answered. An instance placed on
/// the cell that built the image starts from it at once (that engine has it: no registry round trip, so a single
/// host is as fast as without a registry); an instance on another cell waits for the push and pulls the digest.
/// A push that fails fails only the instances that needed it. The digest is stored on the release when known.
/// </summary>
public sealed class ReleaseImagePushes(IStateStore database, ILogger<ReleaseImagePushes> logger)
{
    /// <summary>How many pushes are remembered: a deploy's, then a while for the converger's restarts elsewhere.</summary>
    private const int Kept = 200;

    /// <param name="Cell">The cell whose engine built <paramref name="LocalImage"/>.</param>
    /// <param name="Digest">The registry reference (`REGISTRY/paas/app-APP@sha256:…`), or a <see cref="StagingException"/> with the reason.</param>
    public sealed record Push(string App, int Version, string Cell, string LocalImage, Task<string> Digest);

    private readonly object _gate = new();
    private readonly LinkedList<Push> _pushes = new();

    /// <summary>Remembers a push under way and stores its digest on the release once both exist (either may come first).</summary>
    public Push Track(string app, int version, string cell, string localImage, Task<string> digest)
    {
        var push = new Push(app, version, cell, localImage, digest);
        lock (_gate)
        {
            _pushes.RemoveAll(p => p.App == app && p.Version == version);
            _pushes.AddFirst(push);
            while (_pushes.Count > Kept)
                _pushes.RemoveLast();
        }
        _ = StoreWhenPushedAsync(push);
        return push;
    }

    public Push? Find(string app, int version)
    {
        lock (_gate)
            return _pushes.FirstOrDefault(p => p.App == app && p.Version == version);
    }

    /// <summary>
    /// The image an instance (or one-off) of <paramref name="release"/> runs on <paramref name="cell"/>, and whether that cell
    /// must get it first (by digest from the registry): the built image itself on the cell that built it, else the digest,
    /// once the push has finished. Throws <see cref="StagingException"/> with the reason when the push failed.
    /// </summary>
    public async Task<(string Image, bool Pull)> ImageForAsync(Paas.Controller.State.ReleaseRecord release, string cell, Func<string, Task> output, CancellationToken cancellationToken)
    {
        if (release.RegistryImage is { } pushed)
            return (pushed, true);
        if (Find(release.App, release.Version) is not { } push)
            return (release.Image, false);
        if (push.Cell == cell)
            return (push.LocalImage, false);
        if (!push.Digest.IsCompleted)
            await output($"waits for the image push from cell {push.Cell} …");
        return (await push.Digest.WaitAsync(cancellationToken), true);
    }

    /// <summary>The release with its digest when its push has finished by now (before it is recorded).</summary>
    public Paas.Controller.State.ReleaseRecord WithKnownDigest(Paas.Controller.State.ReleaseRecord release) =>
        release.RegistryImage is null && Find(release.App, release.Version) is { Digest.IsCompletedSuccessfully: true } push
            ? release with { RegistryImage = push.Digest.Result }
            : release;

    /// <summary>Stores the digest of a finished push on its release, if that is recorded and lacks it (called again after recording, for a push that finished in between).</summary>
    public void StoreIfPushed(string app, int version)
    {
        if (Find(app, version) is not { Digest.IsCompletedSuccessfully: true } push)
            return;
        try
        {
            if (database.FindRelease(app, version) is { RegistryImage: null })
                database.SetReleaseRegistryImage(app, version, push.Digest.Result);
        }
        catch (StateStoreUnavailableException e)
        {
            // Instances elsewhere still find the digest here; a controller restarted meanwhile does not.
            logger.LogWarning("Could not store the registry digest of {App} v{Version}: {Reason}", app, version, e.Message);
        }
    }

    private async Task StoreWhenPushedAsync(Push push)
    {
        try
        {
            await push.Digest;
        }
        catch (Exception e)
        {
            logger.LogWarning("Pushing the image of {App} v{Version} from cell {Cell} failed: {Reason}", push.App, push.Version, push.Cell, e.Message);
            return;
        }
        StoreIfPushed(push.App, push.Version);
    }
}

internal static class LinkedListExtensions
{
    public static void RemoveAll<T>(this LinkedList<T> list, Func<T, bool> match)
    {
        for (var node = list.First; node is not null;)
        {
            var next = node.Next;
            if (match(node.Value))
                list.Remove(node);
            node = next;
        }
    }
}
