using Microsoft.Data.Sqlite;
using Paas.Controller.State;

namespace Paas.Controller.Tests.State;

/// <summary>
/// Upgrades keep what an operator already has: a database written before the schema was versioned opens with
/// its apps, releases and tokens, and one written by a newer build is refused untouched.
/// </summary>
public sealed class SqliteSchemaTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("paas-schema-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ADatabaseFromBeforeVersioning_KeepsItsAppsReleasesAndTokens()
    {
        var path = Path.Combine(_dir, "old.db");
        // The first schema: no owner, no release config or description, no token description, no users table.
        Run(path, """
            CREATE TABLE apps (name TEXT PRIMARY KEY, created_at TEXT NOT NULL);
            CREATE TABLE releases (app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE, version INTEGER NOT NULL,
                image TEXT NOT NULL, git_commit TEXT NOT NULL, buildpack TEXT NOT NULL, process_types TEXT NOT NULL,
                created_at TEXT NOT NULL, PRIMARY KEY (app, version));
            CREATE TABLE tokens (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, user_name TEXT NOT NULL, role TEXT NOT NULL,
                created_at TEXT NOT NULL);
            INSERT INTO apps VALUES ('legacy', '2026-01-01T00:00:00.0000000+00:00');
            INSERT INTO releases VALUES ('legacy', 1, 'paas/app-legacy:v1', 'abc123', 'static', '{"web":"serve"}',
                '2026-01-01T00:00:00.0000000+00:00');
            INSERT INTO tokens VALUES ('t1', 'hash-of-token', 'alice', 'admin', '2026-01-01T00:00:00.0000000+00:00');
            """);

        var db = new PlatformDatabase(path, TimeProvider.System);

        Assert.Equal("admin", db.FindApp("legacy")!.Owner);
        var release = Assert.Single(db.ListReleases("legacy"));
        Assert.Equal(("paas/app-legacy:v1", "abc123"), (release.Image, release.Commit));
        Assert.Equal("alice", db.FindTokenByHash("hash-of-token")!.User);
        Assert.Equal("admin", db.FindUser("alice")!.Role);
        Assert.Equal(SqliteSchema.Latest, VersionOf(path));
        // Columns the upgrade added are usable: a second release with a description and config is stored.
        db.AddRelease(release with { Version = 2, Description = "Deploy def456", Config = new Dictionary<string, string> { ["A"] = "1" } });
        Assert.Equal("Deploy def456", db.CurrentRelease("legacy")!.Description);
    }

    [Fact]
    public void OpeningAnUpToDateDatabaseAgain_ChangesNothing()
    {
        var path = Path.Combine(_dir, "paas.db");
        new PlatformDatabase(path, TimeProvider.System).TryCreateApp("kept", "bob", out _);

        var again = new PlatformDatabase(path, TimeProvider.System);

        Assert.Equal("bob", again.FindApp("kept")!.Owner);
        Assert.Equal(SqliteSchema.Latest, VersionOf(path));
    }

    [Fact]
    public void ADatabaseFromANewerBuild_IsRefusedAndLeftAsItWas()
    {
        var path = Path.Combine(_dir, "newer.db");
        var newer = SqliteSchema.Latest + 1;
        Run(path, $"CREATE TABLE future (x TEXT); PRAGMA user_version = {newer};");

        var refused = Assert.Throws<SchemaVersionException>(() => new PlatformDatabase(path, TimeProvider.System));

        Assert.Contains(path, refused.Message);
        Assert.Contains($"schema version {newer}", refused.Message);
        Assert.Equal(newer, VersionOf(path));
        Assert.Equal(0, Count(path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'apps'"));
    }

    private static void Run(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long Count(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    private static int VersionOf(string path) => (int)Count(path, "PRAGMA user_version");
}
