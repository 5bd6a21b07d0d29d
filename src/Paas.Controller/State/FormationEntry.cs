namespace Paas.Controller.State;

/// <summary>How many instances of a process type should run, and with how much memory (null: the platform default).</summary>
public sealed record FormationEntry(string Process, int Quantity, int? MemoryMb);
