using Paas.Core.Images;
using Paas.Staging.Buildpacks;

namespace Paas.Controller.Deploys;

/// <summary>
/// Registry hygiene for one app: the manifests of its repository that no kept release runs are deleted (by
/// digest), so the registry's garbage collection (deploy/registry/gc.sh, at its start and nightly) frees their
/// layers. It reads what the registry holds (every tag, and what each points at) rather than the release
/// history, so the images of failed deploys and of releases pruned while the registry was down go too.
/// Without a registry it does nothing.
/// </summary>
public sealed class RegistryPruner(RegistryClient? registry)
{
    public bool Enabled => registry is not null;

    /// <summary>Deletes the app's manifests whose digest is not in <paramref name="keep"/> (release image references); returns the tags deleted.</summary>
    public async Task<IReadOnlyList<string>> PruneAsync(string app, IEnumerable<string> keep, CancellationToken cancellationToken)
    {
        if (registry is null)
            return [];
        var kept = keep.Select(RegistryClient.Parse).OfType<(string Repository, string Digest)>().Select(r => r.Digest).ToHashSet(StringComparer.Ordinal);
        var repository = BuildpackStager.ImageName(app);
        var deleted = new List<string>();
        foreach (var tag in await registry.TagsAsync(repository, cancellationToken))
        {
            if (await registry.DigestAsync(repository, tag, cancellationToken) is not { } digest || kept.Contains(digest))
                continue;
            if (await registry.DeleteManifestAsync(repository, digest, cancellationToken))
                deleted.Add($"{repository}:{tag}");
        }
        return deleted;
    }

    /// <summary>Every manifest of the app (for `apps:destroy`).</summary>
    public Task<IReadOnlyList<string>> RemoveAppAsync(string app, CancellationToken cancellationToken) => PruneAsync(app, [], cancellationToken);
}
