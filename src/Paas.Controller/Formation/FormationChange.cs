namespace Paas.Controller.Formation;

/// <summary>One requested change: a process type, its new quantity (null keeps it) and size such as 256M or 1G (null keeps it).</summary>
public sealed record FormationChange(string? Process, int? Quantity, string? Size);
