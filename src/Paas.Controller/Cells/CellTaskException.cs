namespace Paas.Controller.Cells;

/// <summary>A task (staging, a one-off) that a cell ran and that failed there: the cell's one sentence, fit for the user.</summary>
public sealed class CellTaskException(string message) : Exception(message);
