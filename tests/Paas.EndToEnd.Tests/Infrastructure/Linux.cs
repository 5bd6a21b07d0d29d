using System.Runtime.InteropServices;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>The few kernel calls test hosts need for their clean-up: signals, process identity, detaching mounts.</summary>
public static class Linux
{
    public const int SigTerm = 15;
    public const int SigKill = 9;
    public const int SigStop = 19;
    public const int SigCont = 18;

    public static void Signal(int pid, int signal) => _ = kill(pid, signal);

    public static bool IsAlive(int pid) => pid > 0 && Directory.Exists($"/proc/{pid}") && !IsZombie(pid);

    /// <summary>When a process started, in clock ticks since boot: with its pid, it names one process even after the pid is reused.</summary>
    public static string? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name, which sits in parentheses and may itself hold spaces; starttime is field 22.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[19];
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>"PID STARTTIME": one process, which no later process with the same pid will match.</summary>
    public static string Identity(int pid) => $"{pid} {StartTime(pid)}";

    /// <summary>Whether the process an <see cref="Identity"/> names is still running.</summary>
    public static bool IsRunning(string identity)
    {
        var parts = identity.Trim().Split(' ');
        return parts.Length == 2 && int.TryParse(parts[0], out var pid) && IsAlive(pid) && StartTime(pid) == parts[1];
    }

    /// <summary>Waits until every given process is gone, SIGKILLing those still there after <paramref name="grace"/>.</summary>
    public static async Task WaitGoneAsync(IReadOnlyCollection<int> pids, TimeSpan grace)
    {
        var deadline = DateTime.UtcNow + grace;
        while (pids.Any(IsAlive) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        foreach (var pid in pids.Where(IsAlive))
            Signal(pid, SigKill);
        for (var i = 0; i < 100 && pids.Any(IsAlive); i++)
            await Task.Delay(50);
    }

    /// <summary>Detaches every mount at or under <paramref name="directory"/>, deepest first (overlay layers, shm, namespace files a killed dockerd left).</summary>
    public static void UnmountUnder(string directory)
    {
        var prefix = directory.TrimEnd('/');
        var mounts = File.ReadAllLines("/proc/self/mounts")
            .Select(line => line.Split(' ')[1].Replace("\\040", " "))
            .Where(point => point == prefix || point.StartsWith(prefix + "/", StringComparison.Ordinal))
            .OrderByDescending(point => point.Length);
        const int detach = 2;
        foreach (var point in mounts)
            _ = umount2(point, detach);
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] == 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    [DllImport("libc", SetLastError = true)]
    private static extern int umount2([MarshalAs(UnmanagedType.LPUTF8Str)] string target, int flags);
}
