using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Paas.Controller.State;

/// <summary>
/// The SQLite <see cref="IDomainStore"/>, in the platform's file next to the tables of <see cref="PlatformDatabase"/>
/// (which must have created `apps` first); deleting the app deletes its rows.
/// </summary>
public sealed class DomainStore : IDomainStore
{
    private readonly SqliteFile _file;
    private readonly TimeProvider _time;

    public DomainStore(string path, TimeProvider time)
        : this(new SqliteFile(path), time)
    {
    }

    public DomainStore(SqliteFile file, TimeProvider time)
    {
        _file = file;
        _time = time;
    }

    private SqliteConnection Open() => _file.Open();

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        SqliteFile.Command(connection, sql, parameters);

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

    public IReadOnlyList<DomainRecord> ListAll()
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT hostname, app, created_at FROM domains ORDER BY hostname");
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
