namespace Paas.Controller.Formation;

/// <summary>What a scale did: instances started and stopped, and why any wanted ones are not running.</summary>
public sealed record ScaleOutcome(int Started, int Stopped, IReadOnlyList<string> Problems);
