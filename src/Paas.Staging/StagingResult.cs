using Paas.Core.Releases;

namespace Paas.Staging;

/// <summary>A staged release: its image and what the buildpack said about it.</summary>
public sealed record StagingResult(string Image, string Buildpack, string DetectedAs, BuildpackRelease Release)
{
    /// <summary>The image in the registry by digest (`REGISTRY/paas/app-APP@sha256:…`), when it was pushed there.</summary>
    public string? RegistryImage { get; init; }

    /// <summary>
    /// The push of the image to the registry, still under way when staging answered: the digest reference, or a
    /// <see cref="StagingException"/> with the reason. Instances on <see cref="Cell"/> need not wait for it.
    /// </summary>
    public Task<string>? RegistryPush { get; init; }

    /// <summary>The cell whose engine built the image (it has the image without a pull).</summary>
    public string? Cell { get; init; }
}
