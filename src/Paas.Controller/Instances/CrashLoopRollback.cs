using Paas.Controller.State;

namespace Paas.Controller.Instances;

/// <summary>
/// When a release that passed its health checks at deploy time starts crashing in a loop, the platform
/// rolls back instead of restarting it forever (with backoff) while the previous, working release is
/// gone: a slot of the current release crashed <see cref="CrashesInARow"/> times in a row within
/// <see cref="Probation"/> of the release's creation, and there is a release before it. A release made by
/// this rollback is never rolled back itself (the cause may be outside the app: a database down), so
/// two bad releases cannot ping-pong. Pure: the converger supplies the facts.
/// </summary>
public sealed record CrashLoopRollback(int CrashesInARow, TimeSpan Probation)
{
    public static readonly CrashLoopRollback Default = new(3, TimeSpan.FromMinutes(10));

    /// <summary>How the releases it makes are described (and recognised).</summary>
    public const string DescriptionPrefix = "Automatic rollback";

    /// <summary>The version to roll back to, or null to keep restarting with backoff.</summary>
    /// <param name="crashedRelease">The release of the instance that crashed.</param>
    public int? Decide(ReleaseRecord current, ReleaseRecord? previous, CrashRecord crash, int crashedRelease, DateTimeOffset now)
    {
        if (previous is null || crashedRelease != current.Version || crash.Release != current.Version)
            return null;
        if (current.Description?.StartsWith(DescriptionPrefix, StringComparison.Ordinal) == true)
            return null;
        if (crash.CrashesInARow < CrashesInARow || now - current.CreatedAt > Probation)
            return null;
        return previous.Version;
    }

    public static string Describe(int from, int to, string slot, string why, int crashes) =>
        $"{DescriptionPrefix} to v{to}: v{from} crashed {crashes} times in a row after its deploy ({slot} {why})";
}
