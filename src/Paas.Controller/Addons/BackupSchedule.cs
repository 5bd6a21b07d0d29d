using System.Globalization;
using System.Text.Json.Serialization;

namespace Paas.Controller.Addons;

/// <summary>
/// A PostgreSQL add-on's daily backup (`paas pg:backups:schedule --at 02:00`): the time of day in UTC, how many
/// scheduled backups to keep, since when it is in force and when it last ran. Kept on the add-on's record in the
/// state store, so whichever controller leads runs it.
/// </summary>
public sealed record BackupSchedule(
    [property: JsonPropertyName("at")] string At,
    [property: JsonPropertyName("retention")] int Retention,
    [property: JsonPropertyName("since")] DateTimeOffset Since,
    [property: JsonPropertyName("last_run")] DateTimeOffset? LastRun)
{
    public const int DefaultRetention = 7;
    public const int MaxRetention = 100;

    /// <summary>"HH:MM" (24-hour, UTC) as a time of day; null when it is not one.</summary>
    public static TimeOnly? ParseAt(string at) =>
        TimeOnly.TryParseExact(at, ["HH:mm", "H:mm"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var time) ? time : null;

    /// <summary>
    /// The run due at <paramref name="now"/>, or null: the latest daily time at or before now, if it is not before
    /// the schedule was set (setting 02:00 at 14:00 waits for tomorrow) and has not run since. A controller that was
    /// down at that time runs it once when it comes back, never once per day missed.
    /// </summary>
    public DateTimeOffset? Due(DateTimeOffset now)
    {
        var time = ParseAt(At) ?? throw new InvalidOperationException($"Stored schedule time '{At}' is not HH:MM.");
        var utc = now.ToUniversalTime();
        var today = new DateTimeOffset(DateOnly.FromDateTime(utc.UtcDateTime).ToDateTime(time), TimeSpan.Zero);
        var latest = today <= utc ? today : today.AddDays(-1);
        if (latest < Since || (LastRun is { } last && last >= latest))
            return null;
        return latest;
    }

    /// <summary>The scheduled backups beyond the newest <see cref="Retention"/>; manual captures are never pruned.</summary>
    public IReadOnlyList<BackupRecord> ToPrune(IEnumerable<BackupRecord> backups) =>
        backups.Where(b => b.Scheduled).OrderByDescending(b => b.CreatedAt).ThenByDescending(b => b.Id, StringComparer.Ordinal).Skip(Retention).ToList();
}
