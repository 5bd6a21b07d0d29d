using Paas.Core.Releases;

namespace Paas.Staging;

/// <summary>A staged release: its image and what the buildpack said about it.</summary>
public sealed record StagingResult(string Image, string Buildpack, string DetectedAs, BuildpackRelease Release);
