namespace Paas.Controller.State;

/// <summary>
/// A rename whose follow-ups outside the state store (routes, git repository, logs, build output, certificates,
/// running instances) may not all be done: written by <see cref="IStateStore.RenameApp"/> in the same write as
/// the move, removed by <see cref="IStateStore.FinishRename"/> once <see cref="Apps.AppRename"/> has done them,
/// so a controller that died halfway leaves its successor the list of what to finish.
/// </summary>
public sealed record RenameRecord(string From, string To, DateTimeOffset At);
