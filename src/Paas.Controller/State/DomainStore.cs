using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Paas.Controller.State;

/// <summary>
/// The SQLite <see cref="IDomainStore"/>, in the platform's file next to the tables of <see cref="PlatformDatabase"/>
/// (which must have created `apps` first); deleting the app deletes its rows.
/// </summary>
public sealed class DomainStore : IDomainStore
{
    private readonly string _connectionString;
    private readonly TimeProvider _time;

    public DomainStore(string path, TimeProvider time)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        _time = time;
        using var connection = Open();
        using var create = Command(connection, """
            CREATE TABLE IF NOT EXISTS domains (
                hostname TEXT PRIMARY KEY,
                app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
                created_at TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS domains_by_app ON domains (app, hostname);
            """);
        create.ExecuteNonQuery();
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragmas = Command(connection, "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;");
        pragmas.ExecuteNonQuery();
        return connection;
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        return command;
    }

    public bool TryAdd(string app, string hostname, out DomainRecord domain)
    {
        using var connection = Open();
        // BEGIN IMMEDIATE: the overlap check and the insert happen under the write lock, so two apps cannot
        // each add one of two overlapping names at the same time.
        using var transaction = connection.BeginTransaction();
        using (var all = Command(connection, "SELECT hostname, app, created_at FROM domains"))
        {
            all.Transaction = transaction;
            var existing = Read(all);
            if (DomainConflict.Find(existing, app, hostname) is { } taken)
            {
                domain = taken;
                return false;
            }
        }
        var now = _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
        using var insert = Command(connection, "INSERT INTO domains (hostname, app, created_at) VALUES ($host, $app, $now)",
            ("$host", hostname), ("$app", app), ("$now", now));
        insert.Transaction = transaction;
        insert.ExecuteNonQuery();
        transaction.Commit();
        domain = new DomainRecord(hostname, app, DateTimeOffset.Parse(now, CultureInfo.InvariantCulture));
        return true;
    }

    public DomainRecord? Find(string hostname)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT hostname, app, created_at FROM domains WHERE hostname = $host", ("$host", hostname));
        return Read(command).FirstOrDefault();
    }

    public IReadOnlyList<DomainRecord> ListForApp(string app)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT hostname, app, created_at FROM domains WHERE app = $app ORDER BY hostname", ("$app", app));
        return Read(command);
    }

    public bool Remove(string app, string hostname)
    {
        using var connection = Open();
        using var command = Command(connection, "DELETE FROM domains WHERE app = $app AND hostname = $host", ("$app", app), ("$host", hostname));
        return command.ExecuteNonQuery() == 1;
    }

    private static List<DomainRecord> Read(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var domains = new List<DomainRecord>();
        while (reader.Read())
            domains.Add(new DomainRecord(reader.GetString(0), reader.GetString(1), DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture)));
        return domains;
    }
}
