namespace Paas.Staging;

/// <summary>A staging failure whose message is one sentence fit to show the pusher.</summary>
public sealed class StagingException(string message) : Exception(message);
