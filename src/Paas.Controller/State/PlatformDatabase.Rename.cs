using System.Text.Json;

namespace Paas.Controller.State;

/// <summary>`paas apps:rename`: the app's rows move to the new name in one transaction.</summary>
public sealed partial class PlatformDatabase
{
    // Every table with an `app` column (SqliteSchema). The foreign keys have no ON UPDATE CASCADE, so the new
    // apps row is inserted first, the rows re-pointed at it, and the old one deleted last (cascading to nothing).
    private static readonly string[] AppTables =
    [
        "releases", "formation", "healthchecks", "events", "release_versions", "app_buildpacks", "app_config", "domains",
        "collaborators", "deploys", "app_route_options", "addons", "volumes", "app_registry_credentials", "build_outputs", "run_numbers",
    ];

    public bool RenameApp(string name, string newName)
    {
        using var connection = Open();
        // One transaction (BEGIN IMMEDIATE): a controller that dies halfway leaves the app whole under its old name.
        using var transaction = connection.BeginTransaction();
        using (var insert = Command(connection,
            "INSERT OR IGNORE INTO apps (name, created_at, owner) SELECT $new, created_at, owner FROM apps WHERE name = $old",
            ("$old", name), ("$new", newName)))
        {
            insert.Transaction = transaction;
            // Nothing inserted: no app of the old name, or one of the new name exists.
            if (insert.ExecuteNonQuery() != 1)
                return false;
        }
        foreach (var table in AppTables)
            Run($"UPDATE {table} SET app = $new WHERE app = $old");
        // Records that carry the name inside their JSON too.
        Rewrite("SELECT version, record FROM deploys WHERE app = $new", "UPDATE deploys SET record = $record WHERE app = $new AND version = $key",
            json => JsonSerializer.Serialize(RenamedRecords.Deploy(JsonSerializer.Deserialize<DeployRecord>(json)!, name, newName)));
        Rewrite("SELECT version, image FROM releases WHERE app = $new", "UPDATE releases SET image = $record WHERE app = $new AND version = $key",
            image => RenamedRecords.Image(image, name, newName) is var renamed && renamed != image ? renamed : null);
        Rewrite("SELECT volume, record FROM volumes WHERE app = $new", "UPDATE volumes SET record = $record WHERE app = $new AND volume = $key",
            json => JsonSerializer.Serialize(RenamedRecords.Volume(JsonSerializer.Deserialize<VolumeRecord>(json)!, newName)));
        // Every add-on: another app's add-on may be attached to this one.
        Rewrite("SELECT id, record FROM addons", "UPDATE addons SET record = $record WHERE id = $key",
            json => RenamedRecords.Addon(JsonSerializer.Deserialize<AddonRecord>(json)!, name, newName) is { } moved ? JsonSerializer.Serialize(moved) : null);
        Run("DELETE FROM apps WHERE name = $old");
        // Both names changed: the converger's incremental pass looks at each (AppsChangedSince).
        MarkChanged(connection, transaction, name);
        MarkChanged(connection, transaction, newName);
        using (var pending = Command(connection, "INSERT OR REPLACE INTO app_renames (old_name, new_name, at) VALUES ($old, $new, $at)",
            ("$old", name), ("$new", newName), ("$at", Now())))
        {
            pending.Transaction = transaction;
            pending.ExecuteNonQuery();
        }
        transaction.Commit();
        return true;

        void Run(string sql)
        {
            using var command = Command(connection, sql, ("$old", name), ("$new", newName));
            command.Transaction = transaction;
            command.ExecuteNonQuery();
        }

        void Rewrite(string select, string update, Func<string, string?> rewrite)
        {
            var rows = new List<(object Key, string Record)>();
            using (var query = Command(connection, select, ("$new", newName)))
            {
                query.Transaction = transaction;
                using var reader = query.ExecuteReader();
                while (reader.Read())
                    rows.Add((reader.GetValue(0), reader.GetString(1)));
            }
            foreach (var (key, record) in rows)
            {
                if (rewrite(record) is not { } rewritten)
                    continue;
                using var command = Command(connection, update, ("$new", newName), ("$key", key), ("$record", rewritten));
                command.Transaction = transaction;
                command.ExecuteNonQuery();
            }
        }
    }

    public IReadOnlyList<RenameRecord> PendingRenames()
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT old_name, new_name, at FROM app_renames ORDER BY at");
        using var reader = command.ExecuteReader();
        var renames = new List<RenameRecord>();
        while (reader.Read())
            renames.Add(new RenameRecord(reader.GetString(0), reader.GetString(1), ParseTime(reader.GetString(2))));
        return renames;
    }

    public void FinishRename(string from)
    {
        using var connection = Open();
        using var command = Command(connection, "DELETE FROM app_renames WHERE old_name = $old", ("$old", from));
        command.ExecuteNonQuery();
    }
}
