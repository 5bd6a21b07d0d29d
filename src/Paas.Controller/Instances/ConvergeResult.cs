namespace Paas.Controller.Instances;

/// <summary>What one convergence pass of an app did, and what it could not do (one sentence each).</summary>
public sealed record ConvergeResult(int Started, int Stopped, IReadOnlyList<string> Problems);
