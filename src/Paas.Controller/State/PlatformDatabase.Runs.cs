using System.Globalization;

namespace Paas.Controller.State;

/// <summary>One-off run numbers (run.N): one counter row per app (table: <see cref="SqliteSchema"/>, migration 8).</summary>
public sealed partial class PlatformDatabase
{
    // One statement: SQLite takes the write lock for it, so two connections never read the same last number.
    public int NextRunNumber(string app)
    {
        using var connection = Open();
        using var command = Command(connection,
            "INSERT INTO run_numbers (app, last) VALUES ($app, 1) ON CONFLICT (app) DO UPDATE SET last = last + 1 RETURNING last",
            ("$app", app));
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
