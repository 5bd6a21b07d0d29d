namespace Paas.Controller.Instances;

/// <summary>The crash history of one instance slot (app, process, index), shown by `paas ps`.</summary>
public sealed record CrashRecord(int CrashesInARow, int Restarts, long ExitCode, bool OomKilled, DateTimeOffset CrashedAt, DateTimeOffset NotBefore);
