using Microsoft.Extensions.Logging.Abstractions;
using Paas.Controller.Addons;
using Paas.Controller.State;

namespace Paas.Controller.Tests.Addons;

/// <summary>The daily backup on a hand-moved clock: when a run is due, that it runs once, and what retention prunes.</summary>
public sealed class BackupSchedulerTests : IDisposable
{
    private static readonly DateTimeOffset Day1At14 = new(2026, 3, 1, 14, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "paas-backupsched-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly ManualTime _time = new(Day1At14);
    private readonly PlatformDatabase _db;
    private readonly FakeBackups _backups;
    private readonly BackupScheduler _scheduler;

    public BackupSchedulerTests()
    {
        Directory.CreateDirectory(_dir);
        _db = new PlatformDatabase(new SqliteFile(Path.Combine(_dir, "paas.db")), _time);
        _db.TryCreateApp("shop", "alice", out _);
        _backups = new FakeBackups(_time);
        _scheduler = new BackupScheduler(_db, _backups, _time, NullLogger<BackupScheduler>.Instance);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Due_SetAfterTodaysTime_WaitsForTomorrow_ThenOnceUntilItRuns()
    {
        var schedule = new BackupSchedule("02:00", 7, Day1At14, null);
        var tomorrow = new DateTimeOffset(2026, 3, 2, 2, 0, 0, TimeSpan.Zero);

        Assert.Null(schedule.Due(Day1At14));
        Assert.Null(schedule.Due(tomorrow.AddMinutes(-1)));
        Assert.Equal(tomorrow, schedule.Due(tomorrow));
        Assert.Equal(tomorrow, schedule.Due(tomorrow.AddHours(5)));
        Assert.Null((schedule with { LastRun = tomorrow.AddSeconds(10) }).Due(tomorrow.AddHours(5)));
        Assert.Equal(tomorrow.AddDays(1), (schedule with { LastRun = tomorrow.AddSeconds(10) }).Due(tomorrow.AddDays(1)));
    }

    [Fact]
    public async Task Pass_CapturesOncePerDay_CatchesUpOnceAfterMissedDays_AndKeepsOnlyRetentionScheduledBackups()
    {
        _db.SaveAddon(Addon() with { BackupSchedule = new BackupSchedule("02:00", 3, Day1At14, null) });
        await _backups.CaptureAsync("shop", "alice", _ => Task.CompletedTask, CancellationToken.None); // by hand: never pruned

        Assert.Equal(0, await _scheduler.PassAsync(CancellationToken.None));
        _time.Advance(TimeSpan.FromHours(12) + TimeSpan.FromSeconds(5)); // day 2, 02:00:05
        Assert.Equal(1, await _scheduler.PassAsync(CancellationToken.None));
        Assert.Equal(0, await _scheduler.PassAsync(CancellationToken.None));
        _time.Advance(TimeSpan.FromHours(23));
        Assert.Equal(0, await _scheduler.PassAsync(CancellationToken.None));

        // Down for three days: one backup when it comes back, not three.
        _time.Advance(TimeSpan.FromDays(3));
        Assert.Equal(1, await _scheduler.PassAsync(CancellationToken.None));
        for (var day = 0; day < 4; day++)
        {
            _time.Advance(TimeSpan.FromDays(1));
            Assert.Equal(1, await _scheduler.PassAsync(CancellationToken.None));
        }

        var left = _backups.List("shop");
        Assert.Equal(["b001", "b005", "b006", "b007"], left.Select(b => b.Id));
        Assert.False(left[0].Scheduled);
        Assert.All(left.Skip(1), b => Assert.True(b.Scheduled));
        Assert.Contains(_db.Events("shop", 100), e => e.Message == "Backup b002 removed: the schedule keeps the last 3");
    }

    [Fact]
    public async Task Pass_FailedCapture_IsAnEvent_AndNotRetriedUntilTomorrow()
    {
        _db.SaveAddon(Addon() with { BackupSchedule = new BackupSchedule("02:00", 3, Day1At14, null) });
        _backups.Fail = true;
        _time.Advance(TimeSpan.FromHours(12));

        Assert.Equal(0, await _scheduler.PassAsync(CancellationToken.None));
        _backups.Fail = false;
        Assert.Equal(0, await _scheduler.PassAsync(CancellationToken.None));
        Assert.Contains(_db.Events("shop", 100), e => e.Message.StartsWith("The scheduled backup of postgresql-1a2b3c4d failed: ", StringComparison.Ordinal));
        _time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, await _scheduler.PassAsync(CancellationToken.None));
    }

    private static AddonRecord Addon() =>
        new("postgresql-1a2b3c4d", "shop", "postgresql", "hobby", 256, "c1", "DATABASE_URL", "u1a2b3c4d", "secret", "d1a2b3c4d", Day1At14);

    private sealed class FakeBackups(TimeProvider time) : IScheduledBackups
    {
        private readonly List<BackupRecord> _backups = [];
        private int _next;

        public bool Fail { get; set; }

        public Task<BackupRecord> CaptureAsync(string app, string actor, Func<string, Task> progress, CancellationToken ct, bool scheduled = false)
        {
            if (Fail)
                throw new AddonException(503, "cell_unavailable", "Cell c1, which runs postgresql-1a2b3c4d, is not live.");
            var backup = new BackupRecord($"b{++_next:D3}", app, "postgresql-1a2b3c4d", time.GetUtcNow(), 1000, 0.1) { Scheduled = scheduled };
            _backups.Add(backup);
            return Task.FromResult(backup);
        }

        public IReadOnlyList<BackupRecord> List(string app) => _backups.Where(b => b.App == app).OrderBy(b => b.Id, StringComparer.Ordinal).ToList();

        public void Delete(string app, string id) => _backups.RemoveAll(b => b.App == app && b.Id == id);
    }
}
