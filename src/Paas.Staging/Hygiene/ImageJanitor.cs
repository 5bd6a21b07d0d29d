using System.Globalization;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.Core.Instances;
using Paas.Staging.Buildpacks;

namespace Paas.Staging.Hygiene;

/// <summary>
/// Keeps the disk from filling with builds: release images beyond the ones kept for rollback, dangling
/// layers, and leftovers of staging that a crash interrupted (containers and scratch directories).
/// </summary>
public sealed partial class ImageJanitor(IDockerClient docker, string platformId, string scratchRoot)
{
    /// <summary>
    /// Removes the app's release images not named in <paramref name="keep"/> (repository:tag; a rollback
    /// release runs an older version's image, so images are kept by name, not by version). An image still
    /// used by a container (an instance that has not been replaced yet) stays until a later pass.
    /// Returns the tags removed.
    /// </summary>
    public async Task<IReadOnlyList<string>> PruneReleasesAsync(string app, IReadOnlySet<string> keep, CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        foreach (var (tag, _) in await ReleaseTagsAsync(app, cancellationToken))
        {
            if (keep.Contains(tag))
                continue;
            try
            {
                await docker.Images.DeleteImageAsync(tag, new ImageDeleteParameters { Force = false, NoPrune = false }, cancellationToken);
                removed.Add(tag);
            }
            catch (DockerApiException)
            {
                // In use by a container, or gone already.
            }
        }
        await RemoveStagingLeftoversAsync(app, cancellationToken);
        try
        {
            await docker.Images.PruneImagesAsync(new ImagesPruneParameters
            {
                Filters = new Dictionary<string, IDictionary<string, bool>>
                {
                    ["dangling"] = new Dictionary<string, bool> { ["true"] = true },
                    ["label"] = new Dictionary<string, bool> { [$"{ContainerLabels.Platform}={platformId}"] = true },
                },
            }, cancellationToken);
        }
        catch (DockerApiException)
        {
            // Another prune is running; the next deploy prunes again.
        }
        return removed;
    }

    /// <summary>Removes every image of the app and its staging leftovers (for `apps:destroy`).</summary>
    public async Task RemoveAppAsync(string app, CancellationToken cancellationToken)
    {
        await RemoveStagingLeftoversAsync(app, cancellationToken);
        foreach (var (tag, _) in await ReleaseTagsAsync(app, cancellationToken))
        {
            try
            {
                await docker.Images.DeleteImageAsync(tag, new ImageDeleteParameters { Force = true }, cancellationToken);
            }
            catch (DockerApiException)
            {
            }
        }
    }

    /// <summary>
    /// Gives the app's release images its new name (`apps:rename`): each paas/app-OLD:vN is tagged paas/app-NEW:vN,
    /// then the old tag goes (the image stays: running containers use it by id). Safe to run again.
    /// </summary>
    public async Task RetagAppAsync(string app, string newName, CancellationToken cancellationToken)
    {
        foreach (var (tag, version) in await ReleaseTagsAsync(app, cancellationToken))
        {
            await docker.Images.TagImageAsync(tag, new ImageTagParameters
            {
                RepositoryName = BuildpackStager.ImageName(newName),
                Tag = "v" + version.ToString(CultureInfo.InvariantCulture),
                Force = true,
            }, cancellationToken);
            await docker.Images.DeleteImageAsync(tag, new ImageDeleteParameters { Force = false, NoPrune = true }, cancellationToken);
        }
    }

    /// <summary>The app's release images as (repository:tag, version).</summary>
    public async Task<IReadOnlyList<(string Tag, int Version)>> ReleaseTagsAsync(string app, CancellationToken cancellationToken)
    {
        var repository = BuildpackStager.ImageName(app);
        var images = await docker.Images.ListImagesAsync(new ImagesListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["reference"] = new Dictionary<string, bool> { [repository] = true },
                ["label"] = new Dictionary<string, bool> { [$"{ContainerLabels.Platform}={platformId}"] = true },
            },
        }, cancellationToken);
        var result = new List<(string, int)>();
        foreach (var tag in images.SelectMany(i => i.RepoTags ?? []))
        {
            if (tag.StartsWith(repository + ":v", StringComparison.Ordinal)
                && int.TryParse(tag.AsSpan(repository.Length + 2), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
                result.Add((tag, version));
        }
        return result;
    }

    /// <summary>
    /// Staging containers and scratch directories of the app that outlived their push (the controller
    /// stopped mid-build). Called with the app's deploy lock held, so none of them is in use.
    /// </summary>
    private async Task RemoveStagingLeftoversAsync(string app, CancellationToken cancellationToken)
    {
        var containers = await docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool>
                {
                    [$"{ContainerLabels.Platform}={platformId}"] = true,
                    [$"{ContainerLabels.App}={app}"] = true,
                },
            },
        }, cancellationToken);
        foreach (var container in containers.Where(c => c.Labels.TryGetValue(ContainerLabels.Role, out var role) && role is "staging" or "release" or "postdeploy"))
        {
            try
            {
                await docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true }, cancellationToken);
            }
            catch (DockerApiException)
            {
            }
        }
        if (!Directory.Exists(scratchRoot))
            return;
        var pattern = new Regex($"^stage-{Regex.Escape(app)}-[0-9a-f]{{32}}$");
        foreach (var dir in Directory.EnumerateDirectories(scratchRoot).Where(d => pattern.IsMatch(Path.GetFileName(d))))
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
