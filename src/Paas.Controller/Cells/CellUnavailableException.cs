namespace Paas.Controller.Cells;

/// <summary>A cell agent could not be reached; convergence treats its instances as unknown until it returns.</summary>
public sealed class CellUnavailableException(string message) : Exception(message);
