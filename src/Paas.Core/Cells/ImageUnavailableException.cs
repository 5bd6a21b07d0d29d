namespace Paas.Core.Cells;

/// <summary>A cell could not get a release image onto its engine; the message is one sentence for the pusher.</summary>
public sealed class ImageUnavailableException(string message) : Exception(message);
