namespace Paas.Controller.Instances;

/// <summary>A deploy failure whose message is one sentence fit to show the pusher.</summary>
public sealed class DeployException(string message) : Exception(message);
