namespace Paas.Controller.Formation;

/// <summary>A process type as it is scaled: how many instances, how much memory each, and its command (null when the current release lacks it).</summary>
public sealed record FormationView(string Process, int Quantity, long MemoryMb, string? Command);
