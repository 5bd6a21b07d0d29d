using Microsoft.Data.Sqlite;

namespace Paas.Controller.State;

/// <summary>
/// The platform's one SQLite file: how it is opened (private mode, WAL, foreign keys, busy timeout) and
/// brought to the schema this build knows. <see cref="PlatformDatabase"/> and <see cref="DomainStore"/>
/// both open it through here, so the file has one set of connection rules and one schema owner.
/// </summary>
public sealed class SqliteFile
{
    private readonly string _connectionString;

    public SqliteFile(string path)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        KeepPrivate(path);
        using var connection = Open();
        Execute(connection, "PRAGMA journal_mode = WAL;");
        SqliteSchema.Migrate(connection, path);
    }

    public string Path { get; }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;");
        return connection;
    }

    public static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    public static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    /// <summary>
    /// The database holds every app's config vars: readable by root only, like its WAL and shared-memory
    /// files (SQLite gives those the database file's mode, so the file is made private before they exist).
    /// </summary>
    private static void KeepPrivate(string path)
    {
        const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (!File.Exists(path))
            File.Create(path, 0, FileOptions.None).Dispose();
        foreach (var file in new[] { path, path + "-wal", path + "-shm", path + "-journal" })
        {
            if (File.Exists(file))
                File.SetUnixFileMode(file, ownerOnly);
        }
    }
}
