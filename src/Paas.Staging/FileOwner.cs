using System.Runtime.InteropServices;

namespace Paas.Staging;

/// <summary>Hands a file or directory to another user (root only): containers and fetches run unprivileged.</summary>
internal static class FileOwner
{
    public static void Give(string path, int uid)
    {
        if (Chown(path, uid, uid) != 0)
            throw new IOException($"Could not give {path} to uid {uid} (errno {Marshal.GetLastPInvokeError()}).");
    }

    [DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int Chown(string path, int owner, int group);
}
