using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Paas.Controller.State;

/// <summary>
/// The SQLite schema as numbered migrations, recorded in <c>PRAGMA user_version</c>. Each migration runs once,
/// in order, inside one transaction with its version bump, so a crash mid-upgrade leaves the previous version
/// whole. To change the schema, append a migration; never edit one that has shipped (a database made by it
/// already exists somewhere). A file written by a newer build is refused rather than guessed at.
/// </summary>
public static class SqliteSchema
{
    private static readonly Action<SqliteConnection, SqliteTransaction>[] Migrations =
    [
        // 1: the schema as it stood when versioning began. Databases from before (user_version 0) may hold
        // any earlier shape of it, so this one migration alone is written to be idempotent.
        Baseline,
        // 2: deploy records (DeployRecord), one per app and version, so a restarted controller can settle an interrupted deploy.
        DeployRecords,
        // 3: per-app routing options (AppRouteOptions JSON, as the routers read it): timeout, sticky cookie, balancing, maintenance.
        RouteOptions,
        // 4: add-ons (AddonRecord JSON), not tied to the apps table: destroying an app destroys its add-ons' servers first.
        Addons,
        // 5: app volume mounts (VolumeRecord JSON), one per app and volume name, gone with the app.
        Volumes,
        // 6: per-app image registry logins (`paas registry:login`), one JSON map of registry → credential per app.
        RegistryCredentials,
        // 7: renames whose follow-ups outside the store are not finished (RenameRecord), written with the move itself.
        AppRenames,
        // 8: build outputs (`paas releases:output`), gzip, one per app and release version, gone with the app.
        BuildOutputs,
        // 9: the last one-off run number per app (run.N), so numbers go on after a restart.
        RunNumbers,
        // 10: per-app change stamps (IStateStore.AppsChangedSince), for the converger's incremental pass.
        AppChanges,
    ];

    /// <summary>The schema version this build writes.</summary>
    public static int Latest => Migrations.Length;

    public static int VersionOf(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public static void Migrate(SqliteConnection connection, string path)
    {
        var version = VersionOf(connection);
        if (version > Latest)
            throw new SchemaVersionException(path, version, Latest);
        for (var next = version + 1; next <= Latest; next++)
        {
            using var transaction = connection.BeginTransaction();
            Migrations[next - 1](connection, transaction);
            // PRAGMA takes no parameters; the value is our own integer.
            SqliteFile.Execute(connection, $"PRAGMA user_version = {next.ToString(CultureInfo.InvariantCulture)}", transaction);
            transaction.Commit();
        }
    }

    private static void Baseline(SqliteConnection connection, SqliteTransaction transaction)
    {
        SqliteFile.Execute(connection, """
            CREATE TABLE IF NOT EXISTS apps (
                name TEXT PRIMARY KEY,
                created_at TEXT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS releases (
                app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
                version INTEGER NOT NULL,
                image TEXT NOT NULL,
                git_commit TEXT NOT NULL,
                buildpack TEXT NOT NULL,
                process_types TEXT NOT NULL,
                created_at TEXT NOT NULL,
                PRIMARY KEY (app, version)
            );
            CREATE TABLE IF NOT EXISTS tokens (
                id TEXT PRIMARY KEY,
                hash TEXT NOT NULL UNIQUE,
                user_name TEXT NOT NULL,
                role TEXT NOT NULL,
                created_at TEXT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS formation (
                app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
                process TEXT NOT NULL,
                quantity INTEGER NOT NULL,
                memory_mb INTEGER,
                PRIMARY KEY (app, process)
            );
            CREATE TABLE IF NOT EXISTS healthchecks (
                app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
                process TEXT NOT NULL,
                spec TEXT NOT NULL,
                PRIMARY KEY (app, process)
            );
            CREATE TABLE IF NOT EXISTS events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                app TEXT NOT NULL,
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                kind TEXT NOT NULL,
                message TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS events_by_app ON events (app, id);
            CREATE TABLE IF NOT EXISTS settings (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL
            );
            -- The last release version handed out per app (NextReleaseVersion), so none is handed out twice.
            CREATE TABLE IF NOT EXISTS release_versions (
                app TEXT PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
                last INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS app_buildpacks (
                app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                buildpack TEXT NOT NULL,
                PRIMARY KEY (app, position)
            );
            CREATE TABLE IF NOT EXISTS app_config (
                app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
                name TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (app, name)
            );
            CREATE TABLE IF NOT EXISTS domains (
                hostname TEXT PRIMARY KEY,
                app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
                created_at TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS domains_by_app ON domains (app, hostname);
            """, transaction);
        // Columns that earlier unversioned builds added one by one.
        AddColumnIfMissing(connection, transaction, "releases", "config", "TEXT NOT NULL DEFAULT '{}'");
        AddColumnIfMissing(connection, transaction, "releases", "defaults", "TEXT NOT NULL DEFAULT '{}'");
        AddColumnIfMissing(connection, transaction, "releases", "description", "TEXT NOT NULL DEFAULT ''");
        AddColumnIfMissing(connection, transaction, "apps", "owner", "TEXT NOT NULL DEFAULT 'admin'");
        AddColumnIfMissing(connection, transaction, "tokens", "description", "TEXT NOT NULL DEFAULT ''");
        AddColumnIfMissing(connection, transaction, "releases", "registry_image", "TEXT");
        SqliteFile.Execute(connection, """
            CREATE TABLE IF NOT EXISTS users (
                name TEXT PRIMARY KEY,
                role TEXT NOT NULL,
                created_at TEXT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS collaborators (
                app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
                user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
                created_at TEXT NOT NULL,
                PRIMARY KEY (app, user_name)
            );
            -- Databases from before users existed: every token holder becomes a user.
            INSERT OR IGNORE INTO users (name, role, created_at) SELECT user_name, role, MIN(created_at) FROM tokens GROUP BY user_name;
            """, transaction);
    }

    private static void DeployRecords(SqliteConnection connection, SqliteTransaction transaction) =>
        SqliteFile.Execute(connection, """
            CREATE TABLE IF NOT EXISTS deploys (
                app TEXT NOT NULL,
                version INTEGER NOT NULL,
                finished INTEGER NOT NULL,
                record TEXT NOT NULL,
                PRIMARY KEY (app, version)
            );
            CREATE INDEX IF NOT EXISTS deploys_unfinished ON deploys (finished);
            """, transaction);

    private static void RouteOptions(SqliteConnection connection, SqliteTransaction transaction) =>
        SqliteFile.Execute(connection, """
            CREATE TABLE IF NOT EXISTS app_route_options (
                app TEXT PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
                options TEXT NOT NULL
            );
            """, transaction);

    private static void Addons(SqliteConnection connection, SqliteTransaction transaction) =>
        SqliteFile.Execute(connection, """
            CREATE TABLE IF NOT EXISTS addons (
                id TEXT PRIMARY KEY,
                app TEXT NOT NULL,
                created_at TEXT NOT NULL,
                record TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS addons_by_app ON addons (app);
            """, transaction);

    private static void Volumes(SqliteConnection connection, SqliteTransaction transaction) =>
        SqliteFile.Execute(connection, """
            CREATE TABLE IF NOT EXISTS volumes (
                app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
                volume TEXT NOT NULL,
                record TEXT NOT NULL,
                PRIMARY KEY (app, volume)
            );
            """, transaction);

    private static void RegistryCredentials(SqliteConnection connection, SqliteTransaction transaction) =>
        SqliteFile.Execute(connection, """
            CREATE TABLE IF NOT EXISTS app_registry_credentials (
                app TEXT PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
                credentials TEXT NOT NULL
            );
            """, transaction);

    private static void AppRenames(SqliteConnection connection, SqliteTransaction transaction) =>
        SqliteFile.Execute(connection, """
            CREATE TABLE IF NOT EXISTS app_renames (
                old_name TEXT PRIMARY KEY,
                new_name TEXT NOT NULL,
                at TEXT NOT NULL
            );
            """, transaction);

    private static void BuildOutputs(SqliteConnection connection, SqliteTransaction transaction) =>
        SqliteFile.Execute(connection, """
            CREATE TABLE IF NOT EXISTS build_outputs (
                app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
                version INTEGER NOT NULL,
                output BLOB NOT NULL,
                PRIMARY KEY (app, version)
            );
            """, transaction);

    private static void RunNumbers(SqliteConnection connection, SqliteTransaction transaction) =>
        SqliteFile.Execute(connection, """
            CREATE TABLE IF NOT EXISTS run_numbers (
                app TEXT PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
                last INTEGER NOT NULL
            );
            """, transaction);

    // No reference to apps: a deleted app's row stays (stamped by the deletion), so the highest stamp never goes down
    // and a stamp is never handed out twice.
    private static void AppChanges(SqliteConnection connection, SqliteTransaction transaction) =>
        SqliteFile.Execute(connection, """
            CREATE TABLE IF NOT EXISTS app_changes (
                app TEXT PRIMARY KEY,
                stamp INTEGER NOT NULL
            );
            CREATE INDEX IF NOT EXISTS app_changes_by_stamp ON app_changes (stamp);
            """, transaction);

    private static void AddColumnIfMissing(SqliteConnection connection, SqliteTransaction transaction, string table, string column, string definition)
    {
        using var columns = SqliteFile.Command(connection, $"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = $column", ("$column", column));
        columns.Transaction = transaction;
        if (Convert.ToInt64(columns.ExecuteScalar(), CultureInfo.InvariantCulture) == 0)
            SqliteFile.Execute(connection, $"ALTER TABLE {table} ADD COLUMN {column} {definition}", transaction);
    }
}

/// <summary>The database was written by a newer build: this one does not know its schema and will not touch it.</summary>
public sealed class SchemaVersionException(string path, int found, int known)
    : Exception($"The database {path} has schema version {found}, newer than this build knows ({known}); run the Paas version that wrote it, or a newer one.")
{
    public int Found { get; } = found;
    public int Known { get; } = known;
}
