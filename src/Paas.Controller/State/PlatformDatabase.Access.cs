using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Paas.Controller.State;

/// <summary>Users, their tokens (hashes only) and who may work on which app.</summary>
public sealed partial class PlatformDatabase
{
    /// <summary>Creates the user; false when one of that name exists.</summary>
    public bool TryCreateUser(string name, string role)
    {
        using var connection = Open();
        using var command = Command(connection, "INSERT OR IGNORE INTO users (name, role, created_at) VALUES ($name, $role, $now)",
            ("$name", name), ("$role", role), ("$now", Now()));
        return command.ExecuteNonQuery() == 1;
    }

    public UserRecord? FindUser(string name)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT name, role, created_at FROM users WHERE name = $name", ("$name", name));
        using var reader = command.ExecuteReader();
        return reader.Read() ? new UserRecord(reader.GetString(0), reader.GetString(1), ParseTime(reader.GetString(2))) : null;
    }

    public IReadOnlyList<UserRecord> ListUsers()
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT name, role, created_at FROM users ORDER BY name");
        using var reader = command.ExecuteReader();
        var users = new List<UserRecord>();
        while (reader.Read())
            users.Add(new UserRecord(reader.GetString(0), reader.GetString(1), ParseTime(reader.GetString(2))));
        return users;
    }

    /// <summary>Removes the user, their tokens and collaborations; the caller makes sure they own no app.</summary>
    public bool DeleteUser(string name)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        using (var tokens = Command(connection, "DELETE FROM tokens WHERE user_name = $name", ("$name", name)))
        {
            tokens.Transaction = transaction;
            tokens.ExecuteNonQuery();
        }
        using var user = Command(connection, "DELETE FROM users WHERE name = $name", ("$name", name));
        user.Transaction = transaction;
        var deleted = user.ExecuteNonQuery() == 1;
        transaction.Commit();
        return deleted;
    }

    public void AddToken(string id, string hash, string user, string description)
    {
        using var connection = Open();
        using var command = Command(connection,
            "INSERT INTO tokens (id, hash, user_name, role, created_at, description) VALUES ($id, $hash, $user, '', $now, $description)",
            ("$id", id), ("$hash", hash), ("$user", user), ("$now", Now()), ("$description", description));
        command.ExecuteNonQuery();
    }

    /// <summary>The token with this hash and its user's current role; null when unknown or its user is gone.</summary>
    public TokenRecord? FindTokenByHash(string hash) =>
        QueryTokens("WHERE t.hash = $hash", ("$hash", hash)).FirstOrDefault();

    public IReadOnlyList<TokenRecord> ListTokens(string user) =>
        QueryTokens("WHERE t.user_name = $user ORDER BY t.created_at", ("$user", user));

    public bool DeleteToken(string user, string id)
    {
        using var connection = Open();
        using var command = Command(connection, "DELETE FROM tokens WHERE user_name = $user AND id = $id", ("$user", user), ("$id", id));
        return command.ExecuteNonQuery() == 1;
    }

    private List<TokenRecord> QueryTokens(string where, params (string Name, object? Value)[] parameters)
    {
        using var connection = Open();
        using var command = Command(connection,
            "SELECT t.id, t.user_name, u.role, t.created_at, t.description FROM tokens t JOIN users u ON u.name = t.user_name " + where, parameters);
        using var reader = command.ExecuteReader();
        var tokens = new List<TokenRecord>();
        while (reader.Read())
            tokens.Add(new TokenRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), ParseTime(reader.GetString(3))) { Description = reader.GetString(4) });
        return tokens;
    }

    public bool AnyTokens()
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT EXISTS (SELECT 1 FROM tokens)");
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) == 1;
    }

    public IReadOnlyList<string> Collaborators(string app)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT user_name FROM collaborators WHERE app = $app ORDER BY user_name", ("$app", app));
        using var reader = command.ExecuteReader();
        var users = new List<string>();
        while (reader.Read())
            users.Add(reader.GetString(0));
        return users;
    }

    public bool IsCollaborator(string app, string user)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT EXISTS (SELECT 1 FROM collaborators WHERE app = $app AND user_name = $user)", ("$app", app), ("$user", user));
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) == 1;
    }

    /// <summary>False when the user already collaborates on the app.</summary>
    public bool AddCollaborator(string app, string user)
    {
        using var connection = Open();
        using var command = Command(connection, "INSERT OR IGNORE INTO collaborators (app, user_name, created_at) VALUES ($app, $user, $now)",
            ("$app", app), ("$user", user), ("$now", Now()));
        return command.ExecuteNonQuery() == 1;
    }

    public bool RemoveCollaborator(string app, string user)
    {
        using var connection = Open();
        using var command = Command(connection, "DELETE FROM collaborators WHERE app = $app AND user_name = $user", ("$app", app), ("$user", user));
        return command.ExecuteNonQuery() == 1;
    }
}
