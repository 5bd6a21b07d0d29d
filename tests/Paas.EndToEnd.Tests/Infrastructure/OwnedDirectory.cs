namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A temporary directory a test makes for a server it starts (a registry, a Redis), recording which test process
/// owns it and which server runs from it, so that a later run stops and deletes what a crashed run left behind.
/// </summary>
public static class OwnedDirectory
{
    /// <summary>Removes what dead owners left under /tmp/<paramref name="prefix"/>*, then makes a new directory there owned by this process.</summary>
    public static string Create(string prefix)
    {
        RemoveStale(prefix);
        var directory = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "owner"), Linux.Identity(Environment.ProcessId));
        return directory;
    }

    public static void RecordServer(string directory, int pid) =>
        File.WriteAllText(Path.Combine(directory, "server"), Linux.Identity(pid));

    private static void RemoveStale(string prefix)
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), prefix + "*"))
        {
            var owner = Path.Combine(directory, "owner");
            if (!File.Exists(owner) || Linux.IsRunning(File.ReadAllText(owner)))
                continue;
            var server = Path.Combine(directory, "server");
            if (File.Exists(server) && File.ReadAllText(server) is var identity && Linux.IsRunning(identity))
                Linux.Signal(int.Parse(identity.Split(' ')[0]), Linux.SigKill);
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }
}
