namespace Paas.Controller.State;

/// <summary>Build outputs (`paas releases:output`): one row per app and version, the compressed bytes (table: <see cref="SqliteSchema"/>, migration 7).</summary>
public sealed partial class PlatformDatabase
{
    public void SaveBuildOutput(string app, int version, byte[] output)
    {
        using var connection = Open();
        using var command = Command(connection,
            "INSERT INTO build_outputs (app, version, output) VALUES ($app, $version, $output) ON CONFLICT (app, version) DO UPDATE SET output = excluded.output",
            ("$app", app), ("$version", version), ("$output", output));
        command.ExecuteNonQuery();
    }

    public byte[]? BuildOutput(string app, int version)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT output FROM build_outputs WHERE app = $app AND version = $version", ("$app", app), ("$version", version));
        return command.ExecuteScalar() as byte[];
    }

    public int PruneBuildOutputs(string app, IReadOnlySet<int> keep)
    {
        using var connection = Open();
        // The kept versions are a handful (PAAS_KEEP_RELEASES plus what runs): listed inline as integers, not user text.
        var kept = string.Join(",", keep.Append(0).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        using var command = Command(connection, $"DELETE FROM build_outputs WHERE app = $app AND version NOT IN ({kept})", ("$app", app));
        return command.ExecuteNonQuery();
    }
}
