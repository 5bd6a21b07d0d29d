using Microsoft.Data.Sqlite;

namespace Paas.Controller.State;

/// <summary>
/// The app's config vars as the user set them. Each release keeps a copy of them, so a rollback can restore
/// them; this table is what the next release starts from.
/// </summary>
public sealed partial class PlatformDatabase
{
    public IReadOnlyDictionary<string, string> Config(string app)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT name, value FROM app_config WHERE app = $app ORDER BY name", ("$app", app));
        using var reader = command.ExecuteReader();
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read())
            config[reader.GetString(0)] = reader.GetString(1);
        return config;
    }

    /// <summary>Replaces all of the app's config vars at once (used when the app has no release to roll yet).</summary>
    public void ReplaceConfig(string app, IReadOnlyDictionary<string, string> config)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        ReplaceConfig(connection, transaction, app, config);
        MarkChanged(connection, transaction, app);
        transaction.Commit();
    }

    private static void ReplaceConfig(SqliteConnection connection, SqliteTransaction transaction, string app, IReadOnlyDictionary<string, string> config)
    {
        using (var clear = Command(connection, "DELETE FROM app_config WHERE app = $app", ("$app", app)))
        {
            clear.Transaction = transaction;
            clear.ExecuteNonQuery();
        }
        foreach (var (name, value) in config)
        {
            using var insert = Command(connection, "INSERT INTO app_config (app, name, value) VALUES ($app, $name, $value)",
                ("$app", app), ("$name", name), ("$value", value));
            insert.Transaction = transaction;
            insert.ExecuteNonQuery();
        }
    }
}
