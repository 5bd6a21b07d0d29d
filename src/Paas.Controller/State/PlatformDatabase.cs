using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Paas.Core.Instances;
using Paas.Core.Routing;

namespace Paas.Controller.State;

/// <summary>
/// The default <see cref="IStateStore"/>: an embedded SQLite file in the data directory, for one controller.
/// </summary>
public sealed partial class PlatformDatabase : IStateStore
{
    private readonly SqliteFile _file;
    private readonly TimeProvider _time;
    private readonly int _eventsKept;

    public PlatformDatabase(string path, TimeProvider time, int eventsKeptPerApp = IStateStore.EventsKeptPerApp)
        : this(new SqliteFile(path), time, eventsKeptPerApp)
    {
    }

    public PlatformDatabase(SqliteFile file, TimeProvider time, int eventsKeptPerApp = IStateStore.EventsKeptPerApp)
    {
        _file = file;
        _eventsKept = eventsKeptPerApp;
        _time = time;
    }

    private SqliteConnection Open() => _file.Open();

    private static void Execute(SqliteConnection connection, string sql) => SqliteFile.Execute(connection, sql);

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        SqliteFile.Command(connection, sql, parameters);

    private string Now() => _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string value) => DateTimeOffset.Parse(value, CultureInfo.InvariantCulture);

    /// <summary>Creates the app owned by <paramref name="owner"/>; false when an app of that name exists.</summary>
    public bool TryCreateApp(string name, string owner, out AppRecord app)
    {
        using var connection = Open();
        var now = Now();
        using var command = Command(connection, "INSERT OR IGNORE INTO apps (name, created_at, owner) VALUES ($name, $now, $owner)",
            ("$name", name), ("$now", now), ("$owner", owner));
        var created = command.ExecuteNonQuery() == 1;
        app = created ? new AppRecord(name, ParseTime(now), owner) : FindApp(name)!;
        return created;
    }

    public AppRecord? FindApp(string name)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT name, created_at, owner FROM apps WHERE name = $name", ("$name", name));
        using var reader = command.ExecuteReader();
        return reader.Read() ? new AppRecord(reader.GetString(0), ParseTime(reader.GetString(1)), reader.GetString(2)) : null;
    }

    /// <summary>All apps, or with <paramref name="visibleTo"/> only those that user owns or collaborates on.</summary>
    public IReadOnlyList<AppRecord> ListApps(string? visibleTo = null)
    {
        using var connection = Open();
        using var command = visibleTo is null
            ? Command(connection, "SELECT name, created_at, owner FROM apps ORDER BY name")
            : Command(connection,
                "SELECT name, created_at, owner FROM apps WHERE owner = $user OR name IN (SELECT app FROM collaborators WHERE user_name = $user) ORDER BY name",
                ("$user", visibleTo));
        using var reader = command.ExecuteReader();
        var apps = new List<AppRecord>();
        while (reader.Read())
            apps.Add(new AppRecord(reader.GetString(0), ParseTime(reader.GetString(1)), reader.GetString(2)));
        return apps;
    }

    public bool DeleteApp(string name)
    {
        using var connection = Open();
        using (var events = Command(connection, "DELETE FROM events WHERE app = $name", ("$name", name)))
            events.ExecuteNonQuery();
        using (var deploys = Command(connection, "DELETE FROM deploys WHERE app = $name", ("$name", name)))
            deploys.ExecuteNonQuery();
        using var command = Command(connection, "DELETE FROM apps WHERE name = $name", ("$name", name));
        var deleted = command.ExecuteNonQuery() == 1;
        if (deleted)
            MarkChanged(connection, null, name);
        return deleted;
    }

    /// <summary>
    /// Stamps the app as changed, inside the write's transaction (or right after it, never before: a pass that saw
    /// the stamp must see the write). Writers take SQLite's one write lock in turn, so each stamp is above every committed one.
    /// </summary>
    private static void MarkChanged(SqliteConnection connection, SqliteTransaction? transaction, string app)
    {
        using var command = Command(connection, """
            INSERT INTO app_changes (app, stamp) VALUES ($app, (SELECT COALESCE(MAX(stamp), 0) + 1 FROM app_changes))
            ON CONFLICT (app) DO UPDATE SET stamp = excluded.stamp
            """, ("$app", app));
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    public (IReadOnlyList<string> Apps, long Stamp) AppsChangedSince(long since)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT app, stamp FROM app_changes WHERE stamp > $since ORDER BY stamp", ("$since", since));
        using var reader = command.ExecuteReader();
        var apps = new List<string>();
        var stamp = since;
        while (reader.Read())
        {
            apps.Add(reader.GetString(0));
            stamp = Math.Max(stamp, reader.GetInt64(1));
        }
        return (apps, stamp);
    }

    public IReadOnlyDictionary<string, ReleaseRecord> CurrentReleases() =>
        QueryReleases("AS r WHERE version = (SELECT MAX(version) FROM releases WHERE app = r.app)")
            .Where(r => r.HasBuild)
            .ToDictionary(r => r.App, StringComparer.Ordinal);

    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, FormationEntry>> Formations()
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT app, process, quantity, memory_mb FROM formation");
        using var reader = command.ExecuteReader();
        var result = new Dictionary<string, Dictionary<string, FormationEntry>>(StringComparer.Ordinal);
        while (reader.Read())
        {
            if (!result.TryGetValue(reader.GetString(0), out var formation))
                result[reader.GetString(0)] = formation = new Dictionary<string, FormationEntry>(StringComparer.Ordinal);
            formation[reader.GetString(1)] = new FormationEntry(reader.GetString(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetInt32(3));
        }
        return result.ToDictionary(f => f.Key, f => (IReadOnlyDictionary<string, FormationEntry>)f.Value, StringComparer.Ordinal);
    }

    public IReadOnlyDictionary<string, AppRouteOptions> AllRouteOptions()
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT app, options FROM app_route_options");
        using var reader = command.ExecuteReader();
        var result = new Dictionary<string, AppRouteOptions>(StringComparer.Ordinal);
        while (reader.Read())
        {
            if (RoutingJson.TryReadOptions(reader.GetString(1), out var options))
                result[reader.GetString(0)] = options;
        }
        return result;
    }

    public int NextReleaseVersion(string app)
    {
        using var connection = Open();
        // BEGIN IMMEDIATE (Microsoft.Data.Sqlite's default) takes the write lock first, so two connections
        // cannot both read the same last version.
        using var transaction = connection.BeginTransaction();
        using var command = Command(connection, """
            INSERT INTO release_versions (app, last)
            VALUES ($app, (SELECT COALESCE(MAX(version), 0) + 1 FROM releases WHERE app = $app))
            ON CONFLICT (app) DO UPDATE SET last = MAX(release_versions.last, (SELECT COALESCE(MAX(version), 0) FROM releases WHERE app = $app)) + 1
            RETURNING last;
            """, ("$app", app));
        command.Transaction = transaction;
        var version = Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        transaction.Commit();
        return version;
    }

    public bool SetReleaseRegistryImage(string app, int version, string registryImage)
    {
        using var connection = Open();
        using var command = Command(connection, "UPDATE releases SET registry_image = $image WHERE app = $app AND version = $version",
            ("$app", app), ("$version", version), ("$image", registryImage));
        return command.ExecuteNonQuery() > 0;
    }

    public void ReturnReleaseVersion(string app, int version)
    {
        using var connection = Open();
        using var command = Command(connection, "UPDATE release_versions SET last = last - 1 WHERE app = $app AND last = $version",
            ("$app", app), ("$version", version));
        command.ExecuteNonQuery();
    }

    public ReleaseRecord AddRelease(ReleaseRecord release, bool replaceConfig = false)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        var now = Now();
        using (var command = Command(connection,
            """
            INSERT INTO releases (app, version, image, git_commit, buildpack, process_types, created_at, config, defaults, description, registry_image)
            VALUES ($app, $version, $image, $commit, $buildpack, $types, $now, $config, $defaults, $description, $registryImage);
            """,
            ("$app", release.App), ("$version", release.Version), ("$image", release.Image), ("$commit", release.Commit), ("$buildpack", release.Buildpack),
            ("$types", JsonSerializer.Serialize(release.ProcessTypes)), ("$now", now), ("$config", JsonSerializer.Serialize(release.Config)),
            ("$defaults", JsonSerializer.Serialize(release.Defaults)), ("$description", release.Description), ("$registryImage", release.RegistryImage)))
        {
            command.Transaction = transaction;
            try
            {
                command.ExecuteNonQuery();
            }
            catch (SqliteException e) when (e.SqliteErrorCode == 19) // SQLITE_CONSTRAINT: (app, version) is the primary key
            {
                throw new InvalidOperationException($"{release.App} has a release v{release.Version} already.", e);
            }
        }
        if (replaceConfig)
            ReplaceConfig(connection, transaction, release.App, release.Config);
        MarkChanged(connection, transaction, release.App);
        transaction.Commit();
        return release with { CreatedAt = ParseTime(now) };
    }

    public ReleaseRecord? FindRelease(string app, int version) =>
        QueryReleases("WHERE app = $app AND version = $version", ("$app", app), ("$version", version)).FirstOrDefault();

    /// <summary>The buildpacks chosen for the app (`paas buildpacks:set`), in order; empty means detect.</summary>
    public IReadOnlyList<string> Buildpacks(string app)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT buildpack FROM app_buildpacks WHERE app = $app ORDER BY position", ("$app", app));
        using var reader = command.ExecuteReader();
        var result = new List<string>();
        while (reader.Read())
            result.Add(reader.GetString(0));
        return result;
    }

    public void SetBuildpacks(string app, IReadOnlyList<string> buildpacks)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        using (var clear = Command(connection, "DELETE FROM app_buildpacks WHERE app = $app", ("$app", app)))
        {
            clear.Transaction = transaction;
            clear.ExecuteNonQuery();
        }
        for (var i = 0; i < buildpacks.Count; i++)
        {
            using var insert = Command(connection, "INSERT INTO app_buildpacks (app, position, buildpack) VALUES ($app, $position, $buildpack)",
                ("$app", app), ("$position", i), ("$buildpack", buildpacks[i]));
            insert.Transaction = transaction;
            insert.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    // Releases without a build all come before the first build (IStateStore.CurrentRelease), so the newest release tells.
    public ReleaseRecord? CurrentRelease(string app) => ListReleases(app, limit: 1).FirstOrDefault() is { HasBuild: true } newest ? newest : null;

    /// <summary>The app's releases, newest first; <paramref name="before"/> pages back from a version.</summary>
    public IReadOnlyList<ReleaseRecord> ListReleases(string app, int limit = 100, int? before = null) =>
        QueryReleases("WHERE app = $app AND version < $before ORDER BY version DESC LIMIT $limit",
            ("$app", app), ("$before", before ?? int.MaxValue), ("$limit", limit));

    private List<ReleaseRecord> QueryReleases(string where, params (string Name, object? Value)[] parameters)
    {
        using var connection = Open();
        using var command = Command(connection,
            "SELECT app, version, image, git_commit, buildpack, process_types, created_at, config, defaults, description, registry_image FROM releases " + where,
            parameters);
        using var reader = command.ExecuteReader();
        var releases = new List<ReleaseRecord>();
        while (reader.Read())
        {
            releases.Add(new ReleaseRecord(
                reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(5)) ?? [],
                ParseTime(reader.GetString(6)))
            {
                Config = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(7)) ?? [],
                Defaults = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(8)) ?? [],
                Description = reader.GetString(9),
                RegistryImage = reader.IsDBNull(10) ? null : reader.GetString(10),
            });
        }
        return releases;
    }

    /// <summary>For /healthz: opens the file and reads its schema, which fails when the file is gone, unreadable or not a database.</summary>
    public void Ping()
    {
        using var connection = Open();
        using var query = Command(connection, "SELECT COUNT(*) FROM sqlite_master");
        query.ExecuteScalar();
    }

    public IReadOnlyList<AddonRecord> Addons(string? app = null)
    {
        using var connection = Open();
        using var command = app is null
            ? Command(connection, "SELECT record FROM addons ORDER BY created_at, id")
            : Command(connection, "SELECT record FROM addons WHERE app = $app ORDER BY created_at, id", ("$app", app));
        using var reader = command.ExecuteReader();
        var result = new List<AddonRecord>();
        while (reader.Read())
            result.Add(System.Text.Json.JsonSerializer.Deserialize<AddonRecord>(reader.GetString(0))!);
        return result;
    }

    public void SaveAddon(AddonRecord addon)
    {
        using var connection = Open();
        using var command = Command(connection, "INSERT OR REPLACE INTO addons (id, app, created_at, record) VALUES ($id, $app, $at, $record)",
            ("$id", addon.Id), ("$app", addon.App), ("$at", addon.CreatedAt.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture)),
            ("$record", System.Text.Json.JsonSerializer.Serialize(addon)));
        command.ExecuteNonQuery();
    }

    public bool DeleteAddon(string id)
    {
        using var connection = Open();
        using var command = Command(connection, "DELETE FROM addons WHERE id = $id", ("$id", id));
        return command.ExecuteNonQuery() > 0;
    }

    public IReadOnlyList<VolumeRecord> Volumes(string app)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT record FROM volumes WHERE app = $app", ("$app", app));
        using var reader = command.ExecuteReader();
        var result = new List<VolumeRecord>();
        while (reader.Read())
            result.Add(System.Text.Json.JsonSerializer.Deserialize<VolumeRecord>(reader.GetString(0))!);
        return result.OrderBy(v => v.Process, StringComparer.Ordinal).ThenBy(v => v.Path, StringComparer.Ordinal).ToList();
    }

    public void SaveVolume(VolumeRecord volume)
    {
        using var connection = Open();
        using var command = Command(connection, "INSERT OR REPLACE INTO volumes (app, volume, record) VALUES ($app, $volume, $record)",
            ("$app", volume.App), ("$volume", volume.Volume), ("$record", System.Text.Json.JsonSerializer.Serialize(volume)));
        command.ExecuteNonQuery();
    }

    public bool DeleteVolume(string app, string volume)
    {
        using var connection = Open();
        using var command = Command(connection, "DELETE FROM volumes WHERE app = $app AND volume = $volume", ("$app", app), ("$volume", volume));
        return command.ExecuteNonQuery() > 0;
    }

    public string GetOrCreateSetting(string key, Func<string> create)
    {
        using var connection = Open();
        using (var insert = Command(connection, "INSERT OR IGNORE INTO settings (key, value) VALUES ($key, $value)", ("$key", key), ("$value", create())))
            insert.ExecuteNonQuery();
        using var select = Command(connection, "SELECT value FROM settings WHERE key = $key", ("$key", key));
        return (string)select.ExecuteScalar()!;
    }

    /// <summary>The app's formation: process type → (quantity, memory per instance in MB or null for the default).</summary>
    public IReadOnlyDictionary<string, FormationEntry> Formation(string app)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT process, quantity, memory_mb FROM formation WHERE app = $app", ("$app", app));
        using var reader = command.ExecuteReader();
        var result = new Dictionary<string, FormationEntry>(StringComparer.Ordinal);
        while (reader.Read())
            result[reader.GetString(0)] = new FormationEntry(reader.GetString(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetInt32(2));
        return result;
    }

    public void SetFormation(string app, IEnumerable<FormationEntry> entries)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        foreach (var entry in entries)
        {
            using var command = Command(connection,
                "INSERT INTO formation (app, process, quantity, memory_mb) VALUES ($app, $process, $quantity, $memory) ON CONFLICT (app, process) DO UPDATE SET quantity = excluded.quantity, memory_mb = COALESCE(excluded.memory_mb, formation.memory_mb)",
                ("$app", app), ("$process", entry.Process), ("$quantity", entry.Quantity), ("$memory", entry.MemoryMb));
            command.Transaction = transaction;
            command.ExecuteNonQuery();
        }
        MarkChanged(connection, transaction, app);
        transaction.Commit();
    }

    public AppRouteOptions RouteOptions(string app)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT options FROM app_route_options WHERE app = $app", ("$app", app));
        return RoutingJson.TryReadOptions(command.ExecuteScalar() as string, out var options) ? options : AppRouteOptions.None;
    }

    public void SetRouteOptions(string app, AppRouteOptions options)
    {
        using var connection = Open();
        using var command = Command(connection,
            "INSERT INTO app_route_options (app, options) VALUES ($app, $options) ON CONFLICT (app) DO UPDATE SET options = excluded.options",
            ("$app", app), ("$options", RoutingJson.Write(options)));
        command.ExecuteNonQuery();
        MarkChanged(connection, null, app);
    }

    public IReadOnlyDictionary<string, RegistryCredential> RegistryCredentials(string app)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT credentials FROM app_registry_credentials WHERE app = $app", ("$app", app));
        return command.ExecuteScalar() is string json
            ? JsonSerializer.Deserialize<Dictionary<string, RegistryCredential>>(json) ?? new()
            : new Dictionary<string, RegistryCredential>();
    }

    public void SetRegistryCredentials(string app, IReadOnlyDictionary<string, RegistryCredential> credentials)
    {
        using var connection = Open();
        using var command = Command(connection,
            "INSERT INTO app_registry_credentials (app, credentials) VALUES ($app, $credentials) ON CONFLICT (app) DO UPDATE SET credentials = excluded.credentials",
            ("$app", app), ("$credentials", JsonSerializer.Serialize(credentials)));
        command.ExecuteNonQuery();
    }

    public HealthCheckSpec? HealthCheck(string app, string process)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT spec FROM healthchecks WHERE app = $app AND process = $process", ("$app", app), ("$process", process));
        return command.ExecuteScalar() is string json ? JsonSerializer.Deserialize<HealthCheckSpec>(json) : null;
    }

    public void SetHealthCheck(string app, string process, HealthCheckSpec spec)
    {
        using var connection = Open();
        using var command = Command(connection,
            "INSERT INTO healthchecks (app, process, spec) VALUES ($app, $process, $spec) ON CONFLICT (app, process) DO UPDATE SET spec = excluded.spec",
            ("$app", app), ("$process", process), ("$spec", JsonSerializer.Serialize(spec)));
        command.ExecuteNonQuery();
        MarkChanged(connection, null, app);
    }

    /// <summary>Raised after an event is stored, so it also reaches the app's log (as a <c>platform</c> line).</summary>
    public event Action<EventRecord>? EventAdded;

    public void AddEvent(string app, string actor, string kind, string message)
    {
        using var connection = Open();
        using var command = Command(connection, "INSERT INTO events (app, at, actor, kind, message) VALUES ($app, $at, $actor, $kind, $message)",
            ("$app", app), ("$at", Now()), ("$actor", actor), ("$kind", kind), ("$message", message));
        command.ExecuteNonQuery();
        using (var trim = Command(connection,
            "DELETE FROM events WHERE app = $app AND id <= (SELECT id FROM events WHERE app = $app ORDER BY id DESC LIMIT 1 OFFSET $kept)",
            ("$app", app), ("$kept", _eventsKept)))
            trim.ExecuteNonQuery();
        EventAdded?.Invoke(new EventRecord(app, _time.GetUtcNow(), actor, kind, message));
    }

    public IReadOnlyList<EventRecord> Events(string app, int limit)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT at, actor, kind, message FROM events WHERE app = $app ORDER BY id DESC LIMIT $limit", ("$app", app), ("$limit", limit));
        using var reader = command.ExecuteReader();
        var events = new List<EventRecord>();
        while (reader.Read())
            events.Add(new EventRecord(app, ParseTime(reader.GetString(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
        events.Reverse();
        return events;
    }
}
