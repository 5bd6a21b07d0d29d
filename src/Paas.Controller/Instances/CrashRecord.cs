namespace Paas.Controller.Instances;

/// <summary>The crash history of one instance slot (app, process, index), shown by `paas ps`.</summary>
/// <param name="Release">The release whose instance crashed last; crashes in a row count within one release.</param>
public sealed record CrashRecord(int CrashesInARow, int Restarts, long ExitCode, bool OomKilled, DateTimeOffset CrashedAt, DateTimeOffset NotBefore, int Release = 0);
