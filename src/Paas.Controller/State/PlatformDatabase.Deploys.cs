using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Paas.Controller.State;

/// <summary>Deploy records (<see cref="DeployRecord"/>): one row per app and version, the record itself as JSON (table: <see cref="SqliteSchema"/>, migration 2).</summary>
public sealed partial class PlatformDatabase
{
    /// <summary>How many deploy records each app keeps (by version); older ones go as new ones are written.</summary>
    private const int DeploysKeptPerApp = 100;

    public void SaveDeploy(DeployRecord deploy)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        using (var upsert = Command(connection,
            "INSERT INTO deploys (app, version, finished, record) VALUES ($app, $version, $finished, $record) " +
            "ON CONFLICT (app, version) DO UPDATE SET finished = excluded.finished, record = excluded.record",
            ("$app", deploy.App), ("$version", deploy.Version), ("$finished", deploy.Finished ? 1 : 0), ("$record", JsonSerializer.Serialize(deploy))))
        {
            upsert.Transaction = transaction;
            upsert.ExecuteNonQuery();
        }
        using (var trim = Command(connection, "DELETE FROM deploys WHERE app = $app AND version <= $oldest",
            ("$app", deploy.App), ("$oldest", deploy.Version - DeploysKeptPerApp)))
        {
            trim.Transaction = transaction;
            trim.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    public DeployRecord? FindDeploy(string app, int version) =>
        QueryDeploys("WHERE app = $app AND version = $version", ("$app", app), ("$version", version)).FirstOrDefault();

    public IReadOnlyList<DeployRecord> Deploys(string app, int limit = 100) =>
        QueryDeploys("WHERE app = $app ORDER BY version DESC LIMIT $limit", ("$app", app), ("$limit", limit));

    public IReadOnlyList<DeployRecord> UnfinishedDeploys() => QueryDeploys("WHERE finished = 0 ORDER BY app, version");

    private List<DeployRecord> QueryDeploys(string where, params (string Name, object? Value)[] parameters)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT record FROM deploys " + where, parameters);
        using var reader = command.ExecuteReader();
        var deploys = new List<DeployRecord>();
        while (reader.Read())
            deploys.Add(JsonSerializer.Deserialize<DeployRecord>(reader.GetString(0))!);
        return deploys;
    }
}
