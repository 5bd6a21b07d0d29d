namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>What /proc says about running processes: their parents, command lines and environments (Linux only).</summary>
public static class ProcessTable
{
    /// <summary>Every running process below <paramref name="root"/> (children, grandchildren, ...).</summary>
    public static IReadOnlyList<int> Descendants(int root)
    {
        var children = Pids().Select(pid => (Pid: pid, Parent: Parent(pid))).Where(p => p.Parent > 0).ToLookup(p => p.Parent, p => p.Pid);
        var found = new List<int>();
        var queue = new Queue<int>([root]);
        while (queue.TryDequeue(out var pid))
        {
            foreach (var child in children[pid])
            {
                found.Add(child);
                queue.Enqueue(child);
            }
        }
        return found;
    }

    /// <summary>Running processes whose environment holds NAME=VALUE exactly: everything a test platform started, whoever its parent is now.</summary>
    public static IReadOnlyList<int> WithEnvironment(string name, string value)
    {
        var wanted = $"{name}={value}";
        return Pids().Where(pid => IsRunning(pid) && Read($"/proc/{pid}/environ").Split('\0').Contains(wanted)).ToList();
    }

    public static string CommandLine(int pid) => Read($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();

    /// <summary>Running, and not a zombie waiting for its parent to reap it.</summary>
    public static bool IsRunning(int pid) => State(pid) is { } state && state != 'Z' && state != 'X';

    private static IEnumerable<int> Pids()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
                yield return pid;
        }
    }

    // /proc/PID/stat is "pid (comm) state ppid ...", and comm may hold spaces or parentheses: read after the last ')'.
    private static string[]? StatFields(int pid)
    {
        var stat = Read($"/proc/{pid}/stat");
        var end = stat.LastIndexOf(')');
        return end < 0 ? null : stat[(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    private static char? State(int pid) => StatFields(pid) is [var state, ..] ? state[0] : null;

    private static int Parent(int pid) => StatFields(pid) is [_, var parent, ..] && int.TryParse(parent, out var p) ? p : 0;

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }
}
