using System.Security.Cryptography;
using System.Text;

namespace Paas.Core.Cells;

/// <summary>
/// The secret the controller presents to cell agents. From PAAS_CELL_SECRET, else a file in the data
/// directory that whichever component starts first creates (mode 0600) and the others read.
/// </summary>
public static class CellSecret
{
    public static string Load(string dataDirectory, Func<string, string?>? read = null)
    {
        if (new Configuration.SettingsReader(read ?? Environment.GetEnvironmentVariable).Optional("PAAS_CELL_SECRET") is { } fromEnvironment)
            return fromEnvironment;
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, "cell-secret");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
            using var writer = new StreamWriter(path, Encoding.ASCII, options);
            writer.Write(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another component created it first; use theirs.
        }
        for (var attempt = 0; ; attempt++)
        {
            var secret = File.ReadAllText(path).Trim();
            if (secret.Length > 0 || attempt > 50)
                return secret.Length > 0 ? secret : throw new InvalidOperationException($"{path} is empty.");
            Thread.Sleep(20); // the creator has not finished writing yet
        }
    }

    public static bool Matches(string expected, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(presented));
}
